// Adopting a sensor DaemonSet that Tapfleet found in a cluster (the osSensor's
// example, or one applied from an exported YAML): its settings become a
// profile revision and Tapfleet manages the DaemonSet from then on. Releasing
// stops managing it and deletes nothing.
//
// Adoption takes over the DaemonSet only — not the ServiceAccount, RBAC or
// Secret it may reference, which stay the cluster owner's — and never touches
// its pod template, so no pod restarts: it marks the DaemonSet's own metadata
// (the managed-by label and the config-hash annotation, which is what the
// sensor status compares against).
//
// The settings are read by @tapfleet/sensor's import (the one definition of
// "DaemonSet → settings"). What the import cannot represent faithfully is a
// refusal, said in words; what it leaves out (variables that are not sensor
// settings) is a warning: those stay in the DaemonSet as they are.
//
// The HMAC key is never copied into the profile. A key the DaemonSet carries
// as a literal (or does not set) is replaced at the first rollout by a
// reference to the key Secret Tapfleet manages for the sensor, written with
// the cluster's ingest key (core/rollouts); a reference to a Secret or
// ConfigMap of the cluster owner's is kept, and that object is never written.
// The preview says which, in words (hmacKeyOnRollout). A key Secret that a
// rollout creates is recorded among the install's objects (key-secret.ts):
// Uninstall removes it, Release leaves it to the DaemonSet that reads it.

import type { Db, LiveBus } from "@tapfleet/db";
import { Prisma } from "@tapfleet/db";
import { isSensorDaemonSet, KubeRequestError, kubeRequest, objectPath, readObject } from "@tapfleet/kube";
import { computeConfigHash, CONFIG_HASH_ANNOTATION } from "@tapfleet/sensor/config-hash";
import { importSensorDaemonSet, type HmacKeySource } from "@tapfleet/sensor/import";
import { HMAC_SECRET_KEY, hmacSecretName } from "@tapfleet/sensor/manifests";
import { SENSOR_VARIABLE_NAMES, type ProfileSettings } from "@tapfleet/sensor/settings";
import type { AuthenticatedActor } from "../actor.ts";
import { announceTrackedDaemonSets } from "../clusters/connection.ts";
import { AppError, isAppError } from "../errors.ts";
import { createProfile, saveProfileRevision, validateProfileSettings } from "../profiles/profiles.ts";
import type { BpfCompiler } from "../profiles/bpf-libpcap.ts";
import type { SecretBox } from "../secrets.ts";
import { asAppError, connect, toRefs, type KubeConfig } from "./cluster-access.ts";
import type { SensorAdoptOptions } from "./schema.ts";

/** The label adoption puts on the DaemonSet's metadata (not its pod template). */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "tapfleet";

export interface SensorAdoptionPreview {
  clusterId: string;
  namespace: string;
  name: string;
  uid: string;
  /** The capture container the settings were read from. */
  container: string | null;
  image: string | null;
  captureMode: "privileged" | "capabilities";
  /** What the profile revision will hold; null when the import failed. */
  settings: ProfileSettings | null;
  /** Where the sensor's HMAC key comes from (never its value). */
  hmacKeySource: string;
  /** What a rollout of a Tapfleet revision does with the key's source, and what the user must do, in words. */
  hmacKeyOnRollout: string;
  /** Variables of the container that are not sensor settings: not in the profile, left in the DaemonSet. */
  unknownVariables: string[];
  warnings: string[];
  /** Why adoption is refused; empty when the DaemonSet can be adopted. */
  problems: string[];
  adoptable: boolean;
  /** A profile name derived from the DaemonSet's name. */
  suggestedProfileName: string;
  /** The revision message used when none is given. */
  defaultMessage: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function containersOf(daemonSet: Json): Json[] {
  const spec = isObject(daemonSet.spec) ? daemonSet.spec : {};
  const template = isObject(spec.template) ? spec.template : {};
  const podSpec = isObject(template.spec) ? template.spec : {};
  return asArray(podSpec.containers).filter(isObject);
}

const setsSensorEnv = (container: Json) =>
  asArray(container.env).some((entry) => isObject(entry) && entry.name === "VSENSOR_HOSTNAME");

function describeKeySource(source: HmacKeySource): string {
  switch (source.kind) {
    case "literal":
      return "a literal value in the DaemonSet";
    case "secretKeyRef":
      return `Secret ${source.name}, key ${source.key}`;
    case "configMapKeyRef":
      return `ConfigMap ${source.name}, key ${source.key}`;
    case "missing":
      return "not set";
  }
}

/**
 * What rollouts do with the DaemonSet's key source once it is adopted: the
 * rule core/rollouts applies (mergeRolloutEnv keeps a reference the DaemonSet
 * has; otherwise the key comes from Tapfleet's Secret, which the runner writes).
 */
export function describeHmacKeyOnRollout(options: {
  source: HmacKeySource;
  namespace: string;
  name: string;
  /** The key the DaemonSet has is one of the cluster's ingest keys in use; null when it cannot be told. */
  isClusterKey: boolean | null;
}): string {
  const { source, namespace } = options;
  const tapfleetSecret = hmacSecretName(options.name);
  const written = `Secret ${namespace}/${tapfleetSecret} (key ${HMAC_SECRET_KEY}), which Tapfleet creates in the DaemonSet's namespace with this cluster's ingest key, writes again at each rollout and key rotation (Uninstall removes it if a rollout created it)`;
  switch (source.kind) {
    case "literal":
      return [
        "The key is a literal value in the DaemonSet; Tapfleet does not copy it into the profile and never shows it.",
        `The first rollout replaces it with a reference to ${written}.`,
        options.isClusterKey === true
          ? "The literal is this cluster's ingest key, so reports keep being accepted before and after."
          : options.isClusterKey === false
            ? "Tapfleet refuses reports signed with the literal key (it is not this cluster's ingest key): until that rollout, and from any pod still running with it."
            : "Tapfleet refuses reports signed with a key that is not this cluster's ingest key.",
      ].join(" ");
    case "missing":
      return `The DaemonSet sets no key. The first rollout adds a reference to ${written}.`;
    case "secretKeyRef":
      if (source.name === tapfleetSecret && source.key === HMAC_SECRET_KEY)
        return `The DaemonSet reads the key from ${written}.`;
      return [
        `The DaemonSet reads the key from Secret ${namespace}/${source.name} (key ${source.key}), which stays yours: rollouts keep that reference and never write the Secret.`,
        "It must hold this cluster's ingest key (an admin gets it from the cluster's key rotation), and the new key after each rotation: Tapfleet refuses reports signed with any other key.",
      ].join(" ");
    case "configMapKeyRef":
      return [
        `The DaemonSet reads the key from ConfigMap ${namespace}/${source.name} (key ${source.key}): rollouts keep that reference and never write the ConfigMap.`,
        "A ConfigMap is no place for a key: move it to a Secret. It must hold this cluster's ingest key: Tapfleet refuses reports signed with any other key.",
      ].join(" ");
  }
}

/** A DNS-label profile name from the DaemonSet's name. */
function profileNameFor(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return label || "adopted-sensor";
}

/** The DaemonSet as the cluster has it, plus the Secrets and ConfigMaps its sensor variables reference. */
async function readDaemonSetWithReferences(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
): Promise<{ daemonSet: Json; referenced: Json[] }> {
  let daemonSet;
  try {
    daemonSet = await readObject({
      kubeConfig,
      object: { apiVersion: "apps/v1", kind: "DaemonSet", namespace, name },
    });
  } catch (error) {
    throw asAppError(error, `reading DaemonSet ${namespace}/${name}`);
  }
  if (daemonSet === null)
    throw new AppError("NOT_FOUND", {
      field: "name",
      userMessage: `There is no DaemonSet ${namespace}/${name} in the cluster.`,
    });
  if (!isSensorDaemonSet(daemonSet))
    throw new AppError("INVALID_INPUT", {
      field: "name",
      userMessage: `DaemonSet ${namespace}/${name} is not a sensor's: no container sets VSENSOR_HOSTNAME.`,
    });
  const wanted = new Map<string, { kind: "Secret" | "ConfigMap"; name: string }>();
  for (const container of containersOf(daemonSet))
    for (const entry of asArray(container.env)) {
      if (!isObject(entry) || typeof entry.name !== "string" || !SENSOR_VARIABLE_NAMES.has(entry.name))
        continue;
      const valueFrom = isObject(entry.valueFrom) ? entry.valueFrom : {};
      for (const [field, kind] of [
        ["secretKeyRef", "Secret"],
        ["configMapKeyRef", "ConfigMap"],
      ] as const) {
        const ref = valueFrom[field];
        if (isObject(ref) && typeof ref.name === "string")
          wanted.set(`${kind}/${ref.name}`, { kind, name: ref.name });
      }
    }
  const referenced: Json[] = [];
  try {
    for (const { kind, name: objectName } of wanted.values()) {
      const found = await readObject({
        kubeConfig,
        object: { apiVersion: "v1", kind, namespace, name: objectName },
      });
      if (found !== null) referenced.push(found);
    }
  } catch (error) {
    throw asAppError(error, `reading the Secrets and ConfigMaps DaemonSet ${namespace}/${name} references`);
  }
  return { daemonSet, referenced };
}

async function ingestKeysInUse(db: Db, secrets: SecretBox, clusterId: string, now: Date): Promise<string[]> {
  const keys = await db.ingestKey.findMany({
    where: { clusterId, OR: [{ retiresAt: null }, { retiresAt: { gt: now } }] },
  });
  return keys.map((key) => secrets.open(key.secretCiphertext));
}

interface Inspection {
  preview: SensorAdoptionPreview;
  /** The full settings as the sensor runs them (HMAC key included), for the config hash. */
  fullSettings: Parameters<typeof computeConfigHash>[0] | null;
  resourceVersion: string;
}

async function inspect(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
  namespace: string;
  name: string;
  compileBpf?: BpfCompiler | undefined;
  now: Date;
}): Promise<Inspection & { kubeConfig: KubeConfig }> {
  const { db, secrets, clusterId, namespace, name } = options;
  const kubeConfig = await connect(db, secrets, clusterId);
  const { daemonSet, referenced } = await readDaemonSetWithReferences(kubeConfig, namespace, name);
  const metadata = isObject(daemonSet.metadata) ? daemonSet.metadata : {};
  const imported = importSensorDaemonSet(JSON.stringify({ kind: "List", items: [daemonSet, ...referenced] }));
  const problems: string[] = [];
  const warnings = imported.warnings.filter((warning) => !warning.startsWith("envFrom:"));

  const containers = containersOf(daemonSet);
  const sensorContainers = containers.filter(setsSensorEnv);
  const container = containers.find((candidate) => candidate.name === imported.source?.container);
  if (sensorContainers.length > 1)
    problems.push(
      `several containers set VSENSOR_HOSTNAME (${sensorContainers.map((c) => String(c.name)).join(", ")}); a profile describes one sensor container`,
    );
  if (container && asArray(container.envFrom).length > 0)
    problems.push(
      `container ${String(container.name)} takes variables from envFrom, which the import cannot read: list the sensor's variables under env first`,
    );
  let settings: ProfileSettings | null = null;
  let fullSettings: Inspection["fullSettings"] = null;
  let isClusterKey: boolean | null = null;
  if (!imported.ok) problems.push(...imported.errors.map((error) => error.message));
  else {
    const { hmacKey: _hmacKey, clusterId: runsAs, keyId: _keyId, ...profileSettings } = imported.settings;
    try {
      settings = validateProfileSettings({ settings: profileSettings, compileBpf: options.compileBpf });
      fullSettings = imported.settings;
    } catch (error) {
      if (!isAppError(error) || error.code !== "INVALID_INPUT") throw error;
      problems.push(error.userMessage);
    }
    if (runsAs !== undefined && runsAs !== clusterId)
      warnings.push(
        `VSENSOR_CLUSTER_ID: the sensor reports as cluster ${JSON.stringify(runsAs)}, not ${JSON.stringify(clusterId)}`,
      );
    const keys = await ingestKeysInUse(db, secrets, clusterId, options.now);
    isClusterKey = keys.includes(imported.settings.hmacKey);
    const kept =
      imported.hmacKeySource.kind === "configMapKeyRef" ||
      (imported.hmacKeySource.kind === "secretKeyRef" &&
        imported.hmacKeySource.name !== hmacSecretName(name));
    if (!isClusterKey)
      warnings.push(
        `VSENSOR_HMAC_KEY: the sensor signs with its own key (${describeKeySource(imported.hmacKeySource)}), not this cluster's ingest key; Tapfleet refuses its reports ${kept ? "until that object holds the cluster's key (rollouts keep the reference)" : "until a rollout gives it the cluster's key"}`,
      );
  }
  if (imported.source !== undefined && imported.source.image === undefined)
    problems.push(`container ${imported.source.container} has no image`);

  const managed = await db.sensorInstall.findUnique({ where: { clusterId } });
  if (managed) {
    const same = toRefs(managed.objects).some((ref) => ref.kind === "DaemonSet" && ref.uid === metadata.uid);
    problems.push(
      same
        ? `Tapfleet already manages this DaemonSet (${managed.origin})`
        : `Tapfleet already manages the sensor DaemonSet ${managed.namespace}/${managed.name} in this cluster (${managed.origin}): release or uninstall it first`,
    );
  }
  const privileged =
    container !== undefined &&
    isObject(container.securityContext) &&
    container.securityContext.privileged === true;
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { displayName: true } });
  const clusterName = cluster?.displayName ?? clusterId;
  return {
    kubeConfig,
    resourceVersion: typeof metadata.resourceVersion === "string" ? metadata.resourceVersion : "",
    fullSettings,
    preview: {
      clusterId,
      namespace,
      name,
      uid: typeof metadata.uid === "string" ? metadata.uid : "",
      container: imported.source?.container ?? null,
      image: imported.source?.image ?? null,
      captureMode: privileged ? "privileged" : "capabilities",
      settings,
      hmacKeySource: describeKeySource(imported.hmacKeySource),
      hmacKeyOnRollout: describeHmacKeyOnRollout({
        source: imported.hmacKeySource,
        namespace,
        name,
        isClusterKey,
      }),
      unknownVariables: imported.unknownVariables,
      warnings,
      problems,
      adoptable: problems.length === 0,
      suggestedProfileName: profileNameFor(name),
      defaultMessage: `Adopted from ${clusterName} ${namespace}/${name}`,
    },
  };
}

/** What adopting the DaemonSet would import, with its warnings and, if any, why it cannot be adopted. Changes nothing. */
export async function previewSensorAdoption(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
  namespace: string;
  name: string;
  compileBpf?: BpfCompiler;
  now?: Date;
}): Promise<SensorAdoptionPreview> {
  const { preview } = await inspect({ ...options, now: options.now ?? new Date() });
  return preview;
}

async function patchMetadata(
  kubeConfig: KubeConfig,
  ref: { namespace: string; name: string },
  metadata: Json,
): Promise<void> {
  await kubeRequest({
    kubeConfig,
    method: "PATCH",
    path: objectPath({ apiVersion: "apps/v1", kind: "DaemonSet", ...ref }),
    contentType: "application/merge-patch+json",
    body: { metadata },
  });
}

/**
 * Adopts a sensor DaemonSet: its settings become a new profile (or the next
 * revision of an existing one), and Tapfleet records that it manages the
 * DaemonSet (origin "adopted", objects: the DaemonSet alone). Refused, with
 * nothing changed, when the preview names a problem or the DaemonSet changed
 * since it was read.
 */
export async function adoptSensor(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  clusterId: string;
  adopt: SensorAdoptOptions;
  actor: AuthenticatedActor;
  compileBpf?: BpfCompiler;
  now?: Date;
}): Promise<SensorAdoptionPreview & { profile: { id: string; name: string; revision: number } }> {
  const { db, clusterId, adopt } = options;
  const now = options.now ?? new Date();
  const inspection = await inspect({ ...options, namespace: adopt.namespace, name: adopt.name, now });
  const { preview, kubeConfig } = inspection;
  if (!preview.adoptable || preview.settings === null || inspection.fullSettings === null)
    throw new AppError("CONFLICT", {
      userMessage: `DaemonSet ${adopt.namespace}/${adopt.name} cannot be adopted: ${preview.problems.join("; ")}.`,
    });
  const message = adopt.message ?? preview.defaultMessage;

  // The profile's side is checked before the cluster is touched.
  let expectedLatest: number | undefined;
  if (adopt.profileId !== undefined) {
    const latest = await db.profileRevision.findFirst({
      where: { profileId: adopt.profileId },
      orderBy: { number: "desc" },
    });
    if (!latest)
      throw new AppError("NOT_FOUND", {
        field: "profileId",
        userMessage: `There is no profile with id ${adopt.profileId}.`,
      });
    expectedLatest = latest.number;
  } else {
    const name = adopt.profileName ?? preview.suggestedProfileName;
    const taken = await db.profile.findUnique({ where: { name }, select: { id: true } });
    if (taken)
      throw new AppError("CONFLICT", {
        field: "profileName",
        userMessage: `a profile named ${JSON.stringify(name)} already exists: choose another name, or add a revision to it (profileId)`,
      });
  }

  // Mark the DaemonSet's metadata (not its template: no pod restarts). The
  // resourceVersion makes the patch fail if the DaemonSet changed since it was read.
  const configHash = computeConfigHash(inspection.fullSettings);
  const ref = { namespace: adopt.namespace, name: adopt.name };
  try {
    await patchMetadata(kubeConfig, ref, {
      resourceVersion: inspection.resourceVersion,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      annotations: { [CONFIG_HASH_ANNOTATION]: configHash },
    });
  } catch (error) {
    throw asAppError(error, `marking DaemonSet ${adopt.namespace}/${adopt.name} as managed`);
  }

  try {
    let profile: { id: string; name: string; revision: number };
    if (adopt.profileId !== undefined && expectedLatest !== undefined) {
      const revision = await saveProfileRevision({
        db,
        actor: options.actor,
        profileId: adopt.profileId,
        expectedLatest,
        settings: preview.settings,
        message,
        ...(options.compileBpf ? { compileBpf: options.compileBpf } : {}),
      });
      const row = await db.profile.findUniqueOrThrow({ where: { id: adopt.profileId } });
      profile = { id: row.id, name: row.name, revision: revision.number };
    } else {
      const created = await createProfile({
        db,
        actor: options.actor,
        name: adopt.profileName ?? preview.suggestedProfileName,
        description: `Adopted from DaemonSet ${adopt.namespace}/${adopt.name}`,
        settings: preview.settings,
        message,
        ...(options.compileBpf ? { compileBpf: options.compileBpf } : {}),
      });
      profile = { id: created.id, name: created.name, revision: created.latestRevision };
    }
    await db.sensorInstall.create({
      data: {
        clusterId,
        revision: 1,
        namespace: adopt.namespace,
        name: adopt.name,
        image: preview.image ?? "",
        captureMode: preview.captureMode,
        networkPolicy: false,
        createdNamespace: false,
        settings: preview.settings,
        configHash,
        objects: [{ apiVersion: "apps/v1", kind: "DaemonSet", ...ref, uid: preview.uid }],
        installedBy: `${options.actor.type} ${options.actor.name}`,
        installedAt: now,
        origin: "adopted",
        profileId: profile.id,
        profileRevision: profile.revision,
      },
    });
    await announceTrackedDaemonSets({ bus: options.bus, clusterId, change: "adopted" });
    return { ...preview, profile };
  } catch (error) {
    // Leave the DaemonSet as it was found.
    await patchMetadata(kubeConfig, ref, {
      labels: { [MANAGED_BY_LABEL]: null },
      annotations: { [CONFIG_HASH_ANNOTATION]: null },
    }).catch(() => undefined);
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002")
      throw new AppError("CONFLICT", {
        userMessage: `Tapfleet started managing a sensor in "${clusterId}" at the same time: release or uninstall it first.`,
        cause: error,
      });
    throw error;
  }
}

/**
 * Stops managing the sensor and deletes nothing: the record is forgotten and,
 * for an adopted DaemonSet that is still the one adopted, the marks adoption
 * put on its metadata are taken off (when the cluster cannot be reached, the
 * release still happens and says so).
 */
export async function releaseSensor(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  clusterId: string;
}): Promise<{
  released: { kind: string; name: string; namespace: string | null }[];
  note: string | null;
}> {
  const { db, secrets, clusterId } = options;
  const row = await db.sensorInstall.findUnique({ where: { clusterId } });
  if (!row) {
    const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
    if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
    throw new AppError("NOT_FOUND", { userMessage: `Tapfleet manages no sensor in "${clusterId}".` });
  }
  const refs = toRefs(row.objects);
  let note: string | null = null;
  const daemonSet = refs.find((ref) => ref.kind === "DaemonSet");
  if (row.origin === "adopted" && daemonSet?.namespace) {
    try {
      const kubeConfig = await connect(db, secrets, clusterId);
      const found = await readObject({ kubeConfig, object: daemonSet });
      if (found?.metadata.uid === daemonSet.uid)
        await patchMetadata(
          kubeConfig,
          { namespace: daemonSet.namespace, name: daemonSet.name },
          {
            uid: daemonSet.uid,
            labels: { [MANAGED_BY_LABEL]: null },
            annotations: { [CONFIG_HASH_ANNOTATION]: null },
          },
        );
    } catch (error) {
      if (!isAppError(error) && !(error instanceof KubeRequestError)) throw error;
      note = `The DaemonSet keeps Tapfleet's managed-by label: ${isAppError(error) ? error.userMessage : error.message}`;
    }
  }
  await db.sensorInstall.delete({ where: { clusterId } });
  await announceTrackedDaemonSets({ bus: options.bus, clusterId, change: "released" });
  return {
    released: refs.map((ref) => ({ kind: ref.kind, name: ref.name, namespace: ref.namespace ?? null })),
    note,
  };
}
