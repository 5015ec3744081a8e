// Installing the sensor in a connected cluster, showing what is installed,
// exporting the same objects as YAML, and uninstalling exactly what was
// installed. The objects are rendered by @tapfleet/sensor and applied by
// @tapfleet/kube (server-side apply with kubectl's last-applied annotation, so
// `kubectl apply -f` of the export and Tapfleet's install give the same result).
//
// The ingest key: the Secret holds the cluster's newest ingest key, and the
// key takes part in the template's config hash, so re-applying after a key
// rotation (refreshSensorIngestKey) updates the Secret and rolls the pods;
// agents read the key once at start, and the old key keeps working for the
// rotation's grace period while the rollout runs.

import { Prisma, type Db, type LiveBus } from "@tapfleet/db";
import {
  applyObjects,
  deleteObject,
  describeObject,
  KubeRequestError,
  listObjects,
  objectPath,
  readObject,
  type KubeObjectRef,
} from "@tapfleet/kube";
import {
  DEFAULT_NAME,
  HMAC_SECRET_KEY,
  PART_OF_LABEL,
  PART_OF_VALUE,
  renderSensorManifests,
  toYaml,
  type KubeObject,
  type RenderedSensorManifests,
} from "@tapfleet/sensor/manifests";
import { ZProfileSettingsSchema, ZSensorSettingsSchema } from "@tapfleet/sensor/settings";
import { announceTrackedDaemonSets } from "../clusters/connection.ts";
import { AppError } from "../errors.ts";
import { describeDriftChange, type DriftChange } from "../sensor-drift/diff.ts";
import { judgeDrift, listDriftTargets } from "../sensor-drift/drift.ts";
import type { SecretBox } from "../secrets.ts";
import { asAppError, connect, currentIngestKey, toRefs, type KubeConfig } from "./cluster-access.ts";
import { keyRefreshSkipReason, refreshAdoptedKeySecret } from "./key-secret.ts";
import { ZSensorInstallOptionsSchema, type SensorInstallOptions } from "./schema.ts";

export * from "./schema.ts";
export * from "./adopt.ts";

export interface SensorObjectStatus {
  kind: string;
  name: string;
  namespace: string | null;
  /** present: the installed object (same uid); replaced: another object of that name; missing: gone. */
  state: "present" | "replaced" | "missing";
}

export interface SensorInstallStatus {
  installed: boolean;
  revision: number | null;
  namespace: string | null;
  name: string | null;
  image: string | null;
  captureMode: "privileged" | "capabilities" | null;
  networkPolicy: boolean | null;
  configHash: string | null;
  installedBy: string | null;
  installedAt: Date | null;
  /** "installed": Tapfleet created the objects; "adopted": it took over a DaemonSet found in the cluster. */
  origin: "installed" | "adopted" | null;
  /** The profile revision in force on the DaemonSet, when one is. */
  profile: { id: string; name: string; revision: number } | null;
  /** Whether the cluster could be asked; when false, `objects` and `rollout` are empty and `error` says why. */
  reachable: boolean;
  error: string | null;
  objects: SensorObjectStatus[];
  /** The DaemonSet's rollout counts as the cluster reports them. */
  rollout: {
    desired: number;
    current: number;
    ready: number;
    updated: number;
    available: number;
  } | null;
  /**
   * What differs from what Tapfleet applied, in words: a missing or replaced
   * object, and each change of the DaemonSet's template (see driftChanges).
   */
  drift: string[];
  /** The DaemonSet template's differences by setting (core/sensor-drift), read now. */
  driftChanges: DriftChange[];
  /** Since when the leader has seen the DaemonSet drifted; null when it is in sync (or not checked yet). */
  driftSince: Date | null;
}

// ---------------------------------------------------------------------------
// The connection and the key

function render(options: {
  clusterId: string;
  hmacKey: string;
  install: SensorInstallOptions;
  createNamespace: boolean;
  createSecret: boolean;
}): RenderedSensorManifests {
  const settings = ZSensorSettingsSchema.parse({
    ...options.install.settings,
    hmacKey: options.hmacKey,
    clusterId: options.clusterId,
  });
  return renderSensorManifests({
    settings,
    image: options.install.image,
    namespace: options.install.namespace,
    captureMode: options.install.captureMode,
    networkPolicy: { enabled: options.install.networkPolicy },
    ...(options.install.tolerations === undefined ? {} : { tolerations: options.install.tolerations }),
    ...(options.install.minReadySeconds === undefined
      ? {}
      : { minReadySeconds: options.install.minReadySeconds }),
    createNamespace: options.createNamespace,
    createSecret: options.createSecret,
  });
}

function recordedOptions(row: {
  settings: unknown;
  image: string;
  namespace: string;
  captureMode: string;
  networkPolicy: boolean;
  tolerations: unknown;
  minReadySeconds: number | null;
}): SensorInstallOptions {
  return ZSensorInstallOptionsSchema.parse({
    settings: ZProfileSettingsSchema.parse(row.settings),
    image: row.image,
    namespace: row.namespace,
    captureMode: row.captureMode,
    networkPolicy: row.networkPolicy,
    tolerations: row.tolerations ?? undefined,
    minReadySeconds: row.minReadySeconds ?? undefined,
  });
}

// ---------------------------------------------------------------------------
// Install

/**
 * Installs (or re-installs) the sensor: renders the objects, refuses a
 * DaemonSet of that name that Tapfleet did not install ("adopt it instead"),
 * applies them in order and records what was installed. A refusal midway
 * removes what this install created and says so.
 */
export async function installSensor(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  clusterId: string;
  install: SensorInstallOptions;
  installedBy: string;
  now?: Date;
}): Promise<SensorInstallStatus> {
  const now = options.now ?? new Date();
  const { db, secrets, clusterId, install } = options;
  const kubeConfig = await connect(db, secrets, clusterId);
  const hmacKey = await currentIngestKey(db, secrets, clusterId, now);
  const previous = await db.sensorInstall.findUnique({ where: { clusterId } });
  if (previous && previous.namespace !== install.namespace)
    throw new AppError("CONFLICT", {
      field: "namespace",
      userMessage: `The sensor is installed in "${previous.namespace}": uninstall it before installing in another namespace.`,
    });
  if (previous?.origin === "adopted")
    throw new AppError("CONFLICT", {
      userMessage: `Tapfleet manages the adopted DaemonSet ${previous.namespace}/${previous.name} here: release or uninstall it before installing.`,
    });
  const previousRefs = previous ? toRefs(previous.objects) : [];

  let existingNamespace;
  let existingDaemonSet;
  try {
    existingNamespace = await readObject({
      kubeConfig,
      object: { apiVersion: "v1", kind: "Namespace", name: install.namespace },
    });
    existingDaemonSet = await readObject({
      kubeConfig,
      object: { apiVersion: "apps/v1", kind: "DaemonSet", name: DEFAULT_NAME, namespace: install.namespace },
    });
  } catch (error) {
    throw asAppError(error, "reading the sensor's namespace and DaemonSet");
  }
  if (existingDaemonSet !== null) {
    const ours = previousRefs.some(
      (ref) => ref.kind === "DaemonSet" && ref.uid === existingDaemonSet.metadata.uid,
    );
    if (!ours)
      throw new AppError("CONFLICT", {
        userMessage: `A DaemonSet ${install.namespace}/${DEFAULT_NAME} exists that Tapfleet did not install: adopt it instead of installing over it.`,
      });
  }
  const createdNamespace = previous ? previous.createdNamespace : existingNamespace === null;

  const rendered = render({
    clusterId,
    hmacKey,
    install,
    createNamespace: createdNamespace,
    createSecret: true,
  });
  let applied;
  try {
    applied = await applyObjects({ kubeConfig, objects: rendered.list });
  } catch (error) {
    throw asAppError(error, "the install");
  }
  const refs: KubeObjectRef[] = applied.map(({ created: _created, ...ref }) => ref);
  // Objects of the previous install that this one no longer renders (a NetworkPolicy turned off).
  for (const old of previousRefs)
    if (!refs.some((ref) => ref.uid === old.uid)) await deleteObject({ kubeConfig, object: old });

  const data = {
    revision: (previous?.revision ?? 0) + 1,
    namespace: install.namespace,
    name: DEFAULT_NAME,
    image: install.image,
    captureMode: install.captureMode,
    networkPolicy: install.networkPolicy,
    createdNamespace,
    settings: install.settings,
    tolerations: install.tolerations ?? Prisma.DbNull,
    minReadySeconds: install.minReadySeconds ?? null,
    configHash: rendered.configHash,
    objects: refs.map((ref) => ({ ...ref })),
    installedBy: options.installedBy,
    installedAt: now,
  };
  await db.sensorInstall.upsert({ where: { clusterId }, create: { clusterId, ...data }, update: data });
  await announceTrackedDaemonSets({ bus: options.bus, clusterId, change: "installed" });
  return getSensorInstallStatus({ db, secrets, clusterId });
}

/**
 * After an ingest key rotation: re-applies the installed objects with the new
 * key, which updates the Secret and (through the config hash) rolls the pods.
 * For an adopted DaemonSet, the key Secret Tapfleet made for it gets the new
 * key (see key-secret.ts: a literal key or the owner's own Secret is left as
 * it is). Says what was written, for the rotation's answer and audit event:
 * null when Tapfleet manages no sensor in the cluster, and why nothing was
 * written when the cluster cannot be asked or refuses (the rotation stands:
 * its new key is answered once and must not be lost).
 */
export async function refreshSensorIngestKey(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  clusterId: string;
  installedBy: string;
}): Promise<{ written: string | null; skipped: string | null } | null> {
  const row = await options.db.sensorInstall.findUnique({ where: { clusterId: options.clusterId } });
  if (!row) return null;
  if (row.origin === "adopted")
    return refreshAdoptedKeySecret({
      db: options.db,
      secrets: options.secrets,
      clusterId: options.clusterId,
      install: row,
    });
  try {
    await installSensor({ ...options, install: recordedOptions(row) });
  } catch (error) {
    // The key has changed by now and is answered only once: a cluster that cannot be asked or
    // refuses leaves the Secret as it was, which the rotation says, instead of failing it.
    const skipped = keyRefreshSkipReason(error);
    if (skipped !== null) return { written: null, skipped };
    throw error;
  }
  const secret = toRefs(row.objects).find((ref) => ref.kind === "Secret");
  return {
    written: secret ? `Secret ${secret.namespace}/${secret.name}` : "the installed objects",
    skipped: null,
  };
}

// ---------------------------------------------------------------------------
// Status

const NOT_INSTALLED: Omit<SensorInstallStatus, "reachable" | "error"> = {
  installed: false,
  revision: null,
  namespace: null,
  name: null,
  image: null,
  captureMode: null,
  networkPolicy: null,
  configHash: null,
  installedBy: null,
  installedAt: null,
  origin: null,
  profile: null,
  objects: [],
  rollout: null,
  drift: [],
  driftChanges: [],
  driftSince: null,
};

const UNREACHABLE: Pick<
  SensorInstallStatus,
  "reachable" | "objects" | "rollout" | "drift" | "driftChanges" | "driftSince"
> = { reachable: false, objects: [], rollout: null, drift: [], driftChanges: [], driftSince: null };

/** What Tapfleet installed in the cluster, and how each object and the rollout look now. */
export async function getSensorInstallStatus(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
}): Promise<SensorInstallStatus> {
  const { db, secrets, clusterId } = options;
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
  const row = await db.sensorInstall.findUnique({ where: { clusterId } });
  if (!row) return { ...NOT_INSTALLED, reachable: true, error: null };
  const profile =
    row.profileId === null || row.profileRevision === null
      ? null
      : await db.profile.findUnique({ where: { id: row.profileId }, select: { id: true, name: true } });
  const base = {
    installed: true,
    revision: row.revision,
    namespace: row.namespace,
    name: row.name,
    image: row.image,
    captureMode: row.captureMode === "capabilities" ? ("capabilities" as const) : ("privileged" as const),
    networkPolicy: row.networkPolicy,
    configHash: row.configHash,
    installedBy: row.installedBy,
    installedAt: row.installedAt,
    origin: row.origin === "adopted" ? ("adopted" as const) : ("installed" as const),
    profile:
      profile && row.profileRevision !== null
        ? { id: profile.id, name: profile.name, revision: row.profileRevision }
        : null,
  };
  const refs = toRefs(row.objects);
  let kubeConfig;
  try {
    kubeConfig = await connect(db, secrets, clusterId);
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== "CONFLICT") throw error;
    return { ...base, ...UNREACHABLE, error: error.userMessage };
  }
  const target = (await listDriftTargets({ db, clusterId })).find(
    (candidate) => candidate.namespace === row.namespace && candidate.name === row.name,
  );
  const verdict = await db.sensorDrift.findUnique({
    where: {
      clusterId_namespace_daemonSetName: { clusterId, namespace: row.namespace, daemonSetName: row.name },
    },
  });
  let driftChanges: DriftChange[] = [];
  const objects: SensorObjectStatus[] = [];
  const drift: string[] = [];
  let rollout: SensorInstallStatus["rollout"] = null;
  try {
    for (const ref of refs) {
      const found = await readObject({ kubeConfig, object: ref });
      const state = found === null ? "missing" : found.metadata.uid === ref.uid ? "present" : "replaced";
      objects.push({ kind: ref.kind, name: ref.name, namespace: ref.namespace ?? null, state });
      if (state !== "present") drift.push(`${describeObject(ref)} is ${state}`);
      if (ref.kind === "DaemonSet" && found !== null) {
        const daemonSet = found as {
          metadata: { annotations?: Record<string, string> };
          status?: Record<string, number | undefined>;
        };
        const status = daemonSet.status ?? {};
        rollout = {
          desired: status.desiredNumberScheduled ?? 0,
          current: status.currentNumberScheduled ?? 0,
          ready: status.numberReady ?? 0,
          updated: status.updatedNumberScheduled ?? 0,
          available: status.numberAvailable ?? 0,
        };
        if (state === "present" && target) {
          driftChanges = judgeDrift({ target, daemonSet: found }).changes;
          drift.push(...driftChanges.map(describeDriftChange));
        }
      }
    }
  } catch (error) {
    if (!(error instanceof KubeRequestError)) throw error;
    return { ...base, ...UNREACHABLE, error: error.message };
  }
  const driftSince = drift.length > 0 && verdict?.state === "drifted" ? verdict.since : null;
  return { ...base, reachable: true, error: null, objects, rollout, drift, driftChanges, driftSince };
}

// ---------------------------------------------------------------------------
// Export

export interface SensorManifestsExport {
  yaml: string;
  includesSecret: boolean;
  objects: Array<{ kind: string; name: string }>;
}

/** The rendered objects as one YAML file, with a header saying what it is and, without the Secret, how to create it. */
function manifestsYaml(options: {
  clusterId: string;
  hmacKey: string;
  install: SensorInstallOptions;
  includeSecret: boolean;
  title: string;
}): SensorManifestsExport {
  const { install } = options;
  const rendered = render({
    clusterId: options.clusterId,
    hmacKey: options.hmacKey,
    install,
    createNamespace: true,
    createSecret: options.includeSecret,
  });
  const secretName = rendered.objects.daemonSet.spec.template.spec.containers
    .flatMap((container) => container.env ?? [])
    .map((entry) =>
      "valueFrom" in entry && "secretKeyRef" in entry.valueFrom
        ? entry.valueFrom.secretKeyRef.name
        : undefined,
    )
    .find((name): name is string => name !== undefined);
  const header = options.includeSecret
    ? [
        `# ${options.title}`,
        "# This file holds the cluster's ingest key in the Secret: keep it out of plain-text repositories.",
      ]
    : [
        `# ${options.title}`,
        "# The Secret with the ingest key is not included. Create it before applying this file:",
        `#   kubectl create namespace ${install.namespace}`,
        `#   kubectl create secret generic ${secretName ?? `${DEFAULT_NAME}-hmac`} -n ${install.namespace} --from-literal=${HMAC_SECRET_KEY}=<the cluster's ingest key>`,
        `#   kubectl label secret ${secretName ?? `${DEFAULT_NAME}-hmac`} -n ${install.namespace} ${PART_OF_LABEL}=${PART_OF_VALUE}`,
        "# (an admin gets the key with the cluster's key rotation, or this export with includeSecret=true).",
      ];
  return {
    yaml: `${header.join("\n")}\n${toYaml(rendered.list)}`,
    includesSecret: options.includeSecret,
    objects: rendered.list.map((object: KubeObject) => ({ kind: object.kind, name: object.metadata.name })),
  };
}

/**
 * The installed objects as YAML for `kubectl apply -f`. Without
 * `includeSecret` the Secret is left out and the YAML's header says how to
 * create it; with it, the Secret carries the cluster's current ingest key.
 */
export async function exportSensorManifests(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
  includeSecret: boolean;
  now?: Date;
}): Promise<SensorManifestsExport> {
  const { db, secrets, clusterId } = options;
  const row = await db.sensorInstall.findUnique({ where: { clusterId } });
  if (!row) {
    const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
    if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
    throw new AppError("NOT_FOUND", {
      userMessage: `The sensor is not installed in "${clusterId}": install it first, then export what was installed, or preview the YAML of an install (POST /api/v1/clusters/${clusterId}/sensor/manifests/preview).`,
    });
  }
  if (row.origin === "adopted")
    throw new AppError("CONFLICT", {
      userMessage: `The DaemonSet ${row.namespace}/${row.name} was adopted, not rendered by Tapfleet: its YAML is the cluster's own (kubectl get daemonset -o yaml).`,
    });
  return manifestsYaml({
    clusterId,
    hmacKey: await currentIngestKey(db, secrets, clusterId, options.now ?? new Date()),
    install: recordedOptions(row),
    includeSecret: options.includeSecret,
    title: `The Tapfleet sensor for cluster ${clusterId}, revision ${row.revision}.`,
  });
}

/**
 * Export before install: the YAML of exactly the objects `installSensor` with
 * these options would apply, without touching the cluster (for GitOps users).
 * The cluster need not be connected; it needs an ingest key in use, which
 * takes part in the template's config hash.
 */
export async function previewSensorManifests(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
  install: SensorInstallOptions;
  includeSecret: boolean;
  now?: Date;
}): Promise<SensorManifestsExport> {
  const { db, secrets, clusterId } = options;
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
  return manifestsYaml({
    clusterId,
    hmacKey: await currentIngestKey(db, secrets, clusterId, options.now ?? new Date()),
    install: options.install,
    includeSecret: options.includeSecret,
    title: `The Tapfleet sensor for cluster ${clusterId}, as an install with these options would apply it.`,
  });
}

// ---------------------------------------------------------------------------
// Uninstall

/** Kinds listed to decide whether a namespace Tapfleet created holds anything else. */
const NAMESPACE_CONTENTS = [
  { apiVersion: "v1", kind: "Pod" },
  { apiVersion: "v1", kind: "ConfigMap" },
  { apiVersion: "v1", kind: "Secret" },
  { apiVersion: "v1", kind: "ServiceAccount" },
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "apps/v1", kind: "DaemonSet" },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
] as const;

/** What every namespace holds by itself, not someone's object. */
const NAMESPACE_DEFAULTS = new Set(["ServiceAccount/default", "ConfigMap/kube-root-ca.crt"]);

/**
 * Removes exactly the recorded objects (by uid: an object of that name made
 * by someone else since is left alone), then the namespace if the install
 * created it and nothing else is in it, and forgets the install.
 */
export async function uninstallSensor(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  clusterId: string;
}): Promise<{
  removed: Array<{ kind: string; name: string; namespace: string | null }>;
  kept: Array<{ kind: string; name: string; namespace: string | null; reason: string }>;
}> {
  const { db, secrets, clusterId } = options;
  const kubeConfig = await connect(db, secrets, clusterId);
  const row = await db.sensorInstall.findUnique({ where: { clusterId } });
  if (!row)
    throw new AppError("NOT_FOUND", {
      userMessage: `Tapfleet has not installed the sensor in "${clusterId}".`,
    });
  const refs = toRefs(row.objects);
  const removed: Array<{ kind: string; name: string; namespace: string | null }> = [];
  const kept: Array<{ kind: string; name: string; namespace: string | null; reason: string }> = [];
  const view = (ref: KubeObjectRef) => ({ kind: ref.kind, name: ref.name, namespace: ref.namespace ?? null });
  const namespaceRef = refs.find((ref) => ref.kind === "Namespace");
  try {
    for (const ref of [...refs].reverse()) {
      if (ref === namespaceRef) continue;
      const outcome = await deleteObject({ kubeConfig, object: ref, throwOnRefusal: true });
      if (outcome === "replaced")
        kept.push({ ...view(ref), reason: "replaced by another object of that name" });
      else removed.push(view(ref));
    }
    if (namespaceRef) {
      const others = await foreignObjectsIn(kubeConfig, namespaceRef.name, row.name);
      if (others.length > 0)
        kept.push({
          ...view(namespaceRef),
          reason: `it holds other objects: ${others.slice(0, 5).join(", ")}`,
        });
      else {
        const outcome = await deleteObject({ kubeConfig, object: namespaceRef, throwOnRefusal: true });
        if (outcome === "replaced")
          kept.push({ ...view(namespaceRef), reason: "replaced by another namespace of that name" });
        else removed.push(view(namespaceRef));
      }
    }
  } catch (error) {
    throw asAppError(error, "the uninstall");
  }
  await db.sensorInstall.delete({ where: { clusterId } });
  await announceTrackedDaemonSets({ bus: options.bus, clusterId, change: "uninstalled" });
  return { removed, kept };
}

async function foreignObjectsIn(kubeConfig: KubeConfig, namespace: string, name: string): Promise<string[]> {
  const found: string[] = [];
  for (const kind of NAMESPACE_CONTENTS) {
    const items = await listObjects({
      kubeConfig,
      path: objectPath({ ...kind, namespace }),
    });
    for (const item of items) {
      const labels = (item.metadata.labels ?? {}) as Record<string, string>;
      // The sensor's own pods are going away with their DaemonSet.
      if (
        kind.kind === "Pod" &&
        labels["app.kubernetes.io/instance"] === name &&
        labels[PART_OF_LABEL] === PART_OF_VALUE
      )
        continue;
      if (NAMESPACE_DEFAULTS.has(`${kind.kind}/${item.metadata.name}`)) continue;
      found.push(`${kind.kind} ${item.metadata.name}`);
    }
  }
  return found;
}
