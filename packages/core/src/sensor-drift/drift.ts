// Drift, the I/O part: which sensor DaemonSets Tapfleet answers for and what
// it expects of each (the SensorInstall record, with a debug level in force
// laid over it; or, for a DaemonSet Tapfleet only found, just the debug
// level's variable), the leader's check that persists a verdict per DaemonSet
// and publishes it, and the two ways out: adopt the drift as a new profile
// revision, or restore the template Tapfleet applied.

import type { Db, LiveBus } from "@tapfleet/db";
import { kubeRequest, KubeRequestError, objectPath, readObject, type loadKubeConfig } from "@tapfleet/kube";
import { computeConfigHash } from "@tapfleet/sensor/config-hash";
import { DEBUG_LEVEL_VARIABLE } from "@tapfleet/sensor/debug-level";
import { importSensorObjects } from "@tapfleet/sensor/import";
import { CAPTURE_CONTAINER_NAME, type CaptureMode } from "@tapfleet/sensor/manifests";
import {
  CLUSTER_SETTING_KEYS,
  ZProfileOverrideSchema,
  ZProfileSettingsSchema,
  ZSensorSettingsSchema,
  type ProfileSettings,
} from "@tapfleet/sensor/settings";
import { z } from "zod";
import type { AuthenticatedActor } from "../actor.ts";
import { announceTrackedDaemonSets } from "../clusters/connection.ts";
import { connectDebugLevelCluster } from "../debug-level/debug-level.ts";
import { AppError } from "../errors.ts";
import { defineTopic, publishTopic } from "../live/topics.ts";
import type { BpfCompiler } from "../profiles/bpf-libpcap.ts";
import { createProfile, saveProfileRevision } from "../profiles/profiles.ts";
import { diffProfileSettings, type PartialSettings } from "../profiles/settings-diff.ts";
import { IN_FLIGHT_CLUSTER_STATUSES } from "../rollouts/schema.ts";
import { listRolloutChanges } from "../rollouts/rollouts.ts";
import type { SecretBox } from "../secrets.ts";
import { currentIngestKey } from "../sensor-install/cluster-access.ts";
import {
  diffSensorTemplate,
  findDriftContainer,
  restoreSensorTemplatePatch,
  ZDriftChangeSchema,
  type DriftChange,
  type ExpectedSensorTemplate,
} from "./diff.ts";

type KubeConfig = ReturnType<typeof loadKubeConfig>;

export const DRIFT_STATES = ["in-sync", "drifted", "missing"] as const;
export const DRIFT_TRACKED = ["installed", "adopted", "debug-level"] as const;

/** One tracked DaemonSet's verdict, as persisted, answered and sent live. */
export const ZSensorDriftSchema = z.object({
  clusterId: z.string(),
  daemonSet: z.object({ namespace: z.string(), name: z.string() }),
  /** Why Tapfleet answers for it: it installed or adopted it, or set a debug level on it. */
  tracked: z.enum(DRIFT_TRACKED),
  /** in-sync: as applied; drifted: changed outside Tapfleet (see changes); missing: the DaemonSet is gone. */
  state: z.enum(DRIFT_STATES),
  /** When the state last changed. */
  since: z.string(),
  checkedAt: z.string(),
  changes: z.array(ZDriftChangeSchema),
});
export type SensorDrift = z.output<typeof ZSensorDriftSchema>;

/**
 * The drift topic: `verdicts` after the leader checked a cluster (every
 * tracked DaemonSet of it, so a page replaces what it shows), and `check`,
 * which asks the leader to look again (what Tapfleet expects changed).
 */
export const SENSOR_DRIFT_TOPIC = defineTopic(
  "sensor-drift",
  z.discriminatedUnion("type", [
    z.object({ type: z.literal("verdicts"), clusterId: z.string(), drifts: z.array(ZSensorDriftSchema) }),
    z.object({ type: z.literal("check"), clusterId: z.string() }),
  ]),
);

/** A DaemonSet Tapfleet answers for and what it expects of it. */
export interface DriftTarget {
  clusterId: string;
  namespace: string;
  name: string;
  tracked: SensorDrift["tracked"];
  expected: ExpectedSensorTemplate;
  /** A rollout is changing the DaemonSet now: it differs from the record on purpose, so it is not judged. */
  rollingOut: boolean;
}

const debugValue = (value: string | null): number | undefined | null =>
  value === null ? undefined : /^[0-9]+$/.test(value) ? Number(value) : null;

/**
 * What OSSENSOR_DEBUG should be under a debug level: its level while active,
 * the value from before once reverted; "in flux" while it changes or failed.
 */
function debugExpectation(row: {
  status: string;
  level: number;
  previousLevel: string | null;
}): { kind: "value"; value: number | undefined } | { kind: "in-flux" } {
  if (row.status === "active") return { kind: "value", value: row.level };
  if (row.status === "reverted") {
    const previous = debugValue(row.previousLevel);
    return previous === null ? { kind: "in-flux" } : { kind: "value", value: previous };
  }
  return { kind: "in-flux" };
}

/** Every DaemonSet Tapfleet answers for (of one cluster, or all), with what it expects. */
export async function listDriftTargets(options: { db: Db; clusterId?: string }): Promise<DriftTarget[]> {
  const where = options.clusterId === undefined ? {} : { clusterId: options.clusterId };
  const [installs, debugLevels, rollouts] = await Promise.all([
    options.db.sensorInstall.findMany({ where, orderBy: { clusterId: "asc" } }),
    options.db.debugLevel.findMany({ where, orderBy: { clusterId: "asc" } }),
    options.db.rolloutCluster.findMany({
      where: { ...where, status: { in: [...IN_FLIGHT_CLUSTER_STATUSES] } },
      select: { clusterId: true, namespace: true, daemonSetName: true },
    }),
  ]);
  const rolling = new Set(rollouts.map((row) => `${row.clusterId}/${row.namespace}/${row.daemonSetName}`));
  const targets = new Map<string, DriftTarget>();
  for (const row of installs) {
    const installed = row.origin !== "adopted";
    const settings = ZProfileSettingsSchema.safeParse(row.settings);
    targets.set(`${row.clusterId}/${row.namespace}/${row.name}`, {
      clusterId: row.clusterId,
      namespace: row.namespace,
      name: row.name,
      tracked: installed ? "installed" : "adopted",
      expected: {
        // An adopted DaemonSet keeps its own container name, security and foreign variables.
        container: installed ? CAPTURE_CONTAINER_NAME : null,
        settings: settings.success ? settings.data : {},
        scope: "all",
        ignore: [],
        foreignVariables: installed,
        clusterId: installed ? row.clusterId : null,
        image: row.image === "" ? null : row.image,
        captureMode: installed ? (row.captureMode as CaptureMode) : null,
      },
      rollingOut: false,
    });
  }
  // A rollout under way: the DaemonSet should carry what the rollout applies.
  for (const change of await listRolloutChanges(options)) {
    const target = targets.get(`${change.clusterId}/${change.namespace}/${change.name}`);
    const settings = ZProfileSettingsSchema.safeParse(change.settings);
    if (target && settings.success)
      target.expected = { ...target.expected, settings: settings.data, image: change.image };
  }
  for (const row of debugLevels) {
    const key = `${row.clusterId}/${row.namespace}/${row.daemonSetName}`;
    const expectation = debugExpectation(row);
    const target = targets.get(key) ?? {
      clusterId: row.clusterId,
      namespace: row.namespace,
      name: row.daemonSetName,
      tracked: "debug-level" as const,
      expected: {
        container: row.container,
        settings: {},
        scope: [DEBUG_LEVEL_VARIABLE],
        ignore: [],
        foreignVariables: false,
        clusterId: null,
        image: null,
        captureMode: null,
      },
      rollingOut: false,
    };
    if (expectation.kind === "in-flux")
      target.expected = { ...target.expected, ignore: [...target.expected.ignore, DEBUG_LEVEL_VARIABLE] };
    else if (expectation.kind === "value" && (targets.has(key) ? row.status === "active" : true))
      // Reverted on an installed sensor: the install's own setting is the value from before.
      target.expected = {
        ...target.expected,
        settings: { ...target.expected.settings, debugLevel: expectation.value },
      };
    targets.set(key, target);
  }
  for (const [key, target] of targets) if (rolling.has(key)) target.rollingOut = true;
  return [...targets.values()];
}

/** The verdict for one target from the DaemonSet as read (null: gone). Pure. */
export function judgeDrift(options: { target: DriftTarget; daemonSet: unknown }): {
  state: SensorDrift["state"];
  changes: DriftChange[];
} {
  if (options.daemonSet === null) return { state: "missing", changes: [] };
  if (options.target.rollingOut) return { state: "in-sync", changes: [] };
  const changes = diffSensorTemplate({ expected: options.target.expected, observed: options.daemonSet });
  return { state: changes.length > 0 ? "drifted" : "in-sync", changes };
}

interface DriftRow {
  clusterId: string;
  namespace: string;
  daemonSetName: string;
  tracked: string;
  state: string;
  since: Date;
  changes: unknown;
  checkedAt: Date;
}

function toView(row: DriftRow): SensorDrift {
  return {
    clusterId: row.clusterId,
    daemonSet: { namespace: row.namespace, name: row.daemonSetName },
    tracked: row.tracked as SensorDrift["tracked"],
    state: row.state as SensorDrift["state"],
    since: row.since.toISOString(),
    checkedAt: row.checkedAt.toISOString(),
    changes: z.array(ZDriftChangeSchema).catch([]).parse(row.changes),
  };
}

function readDaemonSet(
  kubeConfig: KubeConfig,
  target: { namespace: string; name: string },
  signal?: AbortSignal,
) {
  return readObject({
    kubeConfig,
    signal,
    object: { apiVersion: "apps/v1", kind: "DaemonSet", namespace: target.namespace, name: target.name },
  });
}

/** The stored verdicts of a cluster (the leader keeps them current). */
export async function getSensorDrift(options: { db: Db; clusterId: string }): Promise<SensorDrift[]> {
  const cluster = await options.db.cluster.findUnique({
    where: { id: options.clusterId },
    select: { id: true },
  });
  if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${options.clusterId}".` });
  const rows = await options.db.sensorDrift.findMany({
    where: { clusterId: options.clusterId },
    orderBy: [{ namespace: "asc" }, { daemonSetName: "asc" }],
  });
  return rows.map(toView);
}

/**
 * Checks every DaemonSet Tapfleet answers for in one cluster against what it
 * expects, persists the verdicts (a state keeps its `since` while it holds),
 * forgets DaemonSets no longer tracked, and publishes the cluster's verdicts
 * when anything changed. Resolves with the verdicts.
 */
export async function checkSensorDrift(options: {
  db: Db;
  bus: LiveBus;
  kubeConfig: KubeConfig;
  clusterId: string;
  now?: Date;
  /** Abandons the check (its request to the cluster under way) when it aborts. */
  signal?: AbortSignal;
}): Promise<SensorDrift[]> {
  const { db, clusterId } = options;
  const now = options.now ?? new Date();
  const targets = await listDriftTargets({ db, clusterId });
  const stored = new Map(
    (await db.sensorDrift.findMany({ where: { clusterId } })).map((row) => [
      `${row.namespace}/${row.daemonSetName}`,
      row,
    ]),
  );
  let changed = false;
  const verdicts: SensorDrift[] = [];
  for (const target of targets) {
    const daemonSet = await readDaemonSet(options.kubeConfig, target, options.signal);
    const { state, changes } = judgeDrift({ target, daemonSet });
    const key = `${target.namespace}/${target.name}`;
    const before = stored.get(key);
    stored.delete(key);
    const same =
      before !== undefined &&
      before.state === state &&
      before.tracked === target.tracked &&
      JSON.stringify(before.changes) === JSON.stringify(changes);
    const since = before !== undefined && before.state === state ? before.since : now;
    const metadata = (daemonSet?.metadata ?? {}) as { uid?: string; generation?: number };
    const data = {
      tracked: target.tracked,
      state,
      since,
      changes,
      uid: metadata.uid ?? null,
      generation: metadata.generation ?? null,
      checkedAt: now,
    };
    const row = await db.sensorDrift.upsert({
      where: {
        clusterId_namespace_daemonSetName: {
          clusterId,
          namespace: target.namespace,
          daemonSetName: target.name,
        },
      },
      create: { clusterId, namespace: target.namespace, daemonSetName: target.name, ...data },
      update: data,
    });
    if (!same) changed = true;
    verdicts.push(toView(row));
  }
  for (const row of stored.values()) {
    await db.sensorDrift.delete({
      where: {
        clusterId_namespace_daemonSetName: {
          clusterId,
          namespace: row.namespace,
          daemonSetName: row.daemonSetName,
        },
      },
    });
    changed = true;
  }
  if (changed)
    await publishTopic(options.bus, SENSOR_DRIFT_TOPIC, { type: "verdicts", clusterId, drifts: verdicts });
  return verdicts;
}

/** Forgets the verdicts of clusters Tapfleet tracks nothing in any more; their ids, for the live topic. */
export async function deleteSensorDriftExcept(options: { db: Db; clusterIds: string[] }): Promise<string[]> {
  const gone = await options.db.sensorDrift.findMany({
    where: { clusterId: { notIn: options.clusterIds } },
    select: { clusterId: true },
    distinct: ["clusterId"],
  });
  if (gone.length > 0)
    await options.db.sensorDrift.deleteMany({ where: { clusterId: { notIn: options.clusterIds } } });
  return gone.map((row) => row.clusterId);
}

// ---------------------------------------------------------------------------
// Adopt and restore

async function driftedTarget(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
  daemonSet?: { namespace: string; name: string } | undefined;
}): Promise<{
  target: DriftTarget;
  kubeConfig: KubeConfig;
  daemonSet: Record<string, unknown>;
  changes: DriftChange[];
}> {
  const { db, clusterId } = options;
  const cluster = await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } });
  if (!cluster) throw new AppError("NOT_FOUND", { userMessage: `No cluster "${clusterId}".` });
  const targets = await listDriftTargets({ db, clusterId });
  const wanted = options.daemonSet;
  const candidates = wanted
    ? targets.filter((t) => t.namespace === wanted.namespace && t.name === wanted.name)
    : targets;
  if (wanted && candidates.length === 0)
    throw new AppError("INVALID_INPUT", {
      field: "daemonSet",
      userMessage: `Tapfleet does not track a sensor DaemonSet ${wanted.namespace}/${wanted.name} in "${clusterId}"`,
    });
  if (candidates.length === 0)
    throw new AppError("CONFLICT", {
      userMessage: `Tapfleet tracks no sensor DaemonSet in "${clusterId}": install or adopt the sensor first.`,
    });
  const kubeConfig = await connectDebugLevelCluster({ db, secrets: options.secrets, clusterId });
  const found: Array<{ target: DriftTarget; daemonSet: Record<string, unknown>; changes: DriftChange[] }> =
    [];
  for (const target of candidates) {
    let daemonSet;
    try {
      daemonSet = await readDaemonSet(kubeConfig, target);
    } catch (error) {
      if (error instanceof KubeRequestError)
        throw new AppError("UNAVAILABLE", {
          userMessage: `The Kubernetes API of cluster "${clusterId}" did not answer: ${error.message}`,
          cause: error,
        });
      throw error;
    }
    if (daemonSet === null) {
      if (wanted || candidates.length === 1)
        throw new AppError("CONFLICT", {
          userMessage: `DaemonSet ${target.namespace}/${target.name} is gone from "${clusterId}": install the sensor again.`,
        });
      continue;
    }
    const { changes } = judgeDrift({ target, daemonSet });
    if (changes.length > 0) found.push({ target, daemonSet, changes });
  }
  const first = found[0];
  if (!first)
    throw new AppError("CONFLICT", {
      userMessage: `The sensor DaemonSet in "${clusterId}" is as Tapfleet applied it: there is no drift.`,
    });
  if (found.length > 1)
    throw new AppError("INVALID_INPUT", {
      field: "daemonSet",
      userMessage: `is required: ${found.length} DaemonSets drifted in "${clusterId}" (${found.map((f) => `${f.target.namespace}/${f.target.name}`).join(", ")}); name one as {namespace, name}`,
    });
  return { ...first, kubeConfig };
}

const ask = (bus: LiveBus, clusterId: string) =>
  publishTopic(bus, SENSOR_DRIFT_TOPIC, { type: "check", clusterId });

/**
 * Accepts the drift: the observed settings become the next revision of the
 * profile in force (or a new profile, `profileName`, when the sensor runs
 * settings given at install) and the record in force, image included. The
 * DaemonSet is not touched, so nothing restarts. A debug level in force is not
 * made permanent: the profile keeps its own OSSENSOR_DEBUG.
 */
export async function adoptSensorDrift(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  clusterId: string;
  actor: AuthenticatedActor;
  message: string;
  profileName?: string | undefined;
  compileBpf?: BpfCompiler;
  now?: Date;
}): Promise<{ profile: { id: string; name: string; revision: number }; drift: SensorDrift[] }> {
  const { db, clusterId } = options;
  const now = options.now ?? new Date();
  const { target, daemonSet, kubeConfig } = await driftedTarget(options);
  const install = await db.sensorInstall.findUnique({ where: { clusterId } });
  if (!install || target.tracked === "debug-level")
    throw new AppError("CONFLICT", {
      userMessage: `Tapfleet only set a debug level on DaemonSet ${target.namespace}/${target.name}; adopt the DaemonSet itself first, or restore it.`,
    });
  const imported = importSensorObjects([daemonSet], {
    resolveSecret: () => "secret-value-not-read-by-drift-checks",
  });
  if (!imported.ok)
    throw new AppError("CONFLICT", {
      userMessage: `The DaemonSet's settings are not valid, so they cannot become a revision: ${imported.errors.map((e) => e.message).join("; ")}. Restore it instead.`,
    });
  const observed: Record<string, unknown> = { ...imported.settings };
  for (const key of CLUSTER_SETTING_KEYS) delete observed[key];
  const recorded = ZProfileSettingsSchema.parse(install.settings);
  const debugLevel = await db.debugLevel.findUnique({ where: { clusterId } });
  if (debugLevel && debugLevel.status !== "reverted" && debugLevel.status !== "failed") {
    if (recorded.debugLevel === undefined) delete observed.debugLevel;
    else observed.debugLevel = recorded.debugLevel;
  }
  const settings = ZProfileSettingsSchema.parse(observed) satisfies ProfileSettings;
  const container = findDriftContainer(daemonSet, target.expected.container);
  const image = typeof container?.image === "string" ? container.image : install.image;

  let profile: { id: string; name: string; revision: number };
  const bpf = options.compileBpf ? { compileBpf: options.compileBpf } : {};
  if (install.profileId !== null) {
    const latest = await db.profileRevision.findFirst({
      where: { profileId: install.profileId },
      orderBy: { number: "desc" },
      include: { profile: { select: { name: true } } },
    });
    if (!latest) throw new Error(`profile ${install.profileId} in force in "${clusterId}" has no revision`);
    const revision = await saveProfileRevision({
      db,
      actor: options.actor,
      profileId: install.profileId,
      expectedLatest: latest.number,
      settings: await withoutOverride({
        db,
        clusterId,
        profileId: install.profileId,
        profileSettings: ZProfileSettingsSchema.parse(latest.settings),
        observed: settings,
      }),
      message: options.message,
      ...bpf,
    });
    profile = { id: install.profileId, name: latest.profile.name, revision: revision.number };
  } else {
    if (options.profileName === undefined)
      throw new AppError("INVALID_INPUT", {
        field: "profileName",
        userMessage: `is required: the sensor in "${clusterId}" runs settings given at install, not a profile's; name the new profile that will hold them`,
      });
    const created = await createProfile({
      db,
      actor: options.actor,
      name: options.profileName,
      description: `Drift adopted from DaemonSet ${target.namespace}/${target.name} in ${clusterId}`,
      settings,
      message: options.message,
      ...bpf,
    });
    profile = { id: created.id, name: created.name, revision: created.latestRevision };
  }
  const hmacKey = await currentIngestKey(db, options.secrets, clusterId, now);
  await db.sensorInstall.update({
    where: { clusterId },
    data: {
      settings,
      image,
      profileId: profile.id,
      profileRevision: profile.revision,
      configHash: computeConfigHash(ZSensorSettingsSchema.parse({ ...settings, hmacKey, clusterId })),
    },
  });
  await announceTrackedDaemonSets({ bus: options.bus, clusterId, change: "record-changed" });
  const drift = await checkSensorDrift({ db, bus: options.bus, kubeConfig, clusterId, now });
  return { profile, drift };
}

/**
 * The profile's side of observed settings: a setting the cluster overrides
 * keeps the profile's own value (the override goes on giving the cluster its
 * value). A drift of an overridden setting is the override's to take, not the
 * profile's: refused, naming the setting.
 */
async function withoutOverride(options: {
  db: Db;
  clusterId: string;
  profileId: string;
  profileSettings: ProfileSettings;
  observed: ProfileSettings;
}): Promise<ProfileSettings> {
  const row = await options.db.clusterOverride.findFirst({
    where: { profileId: options.profileId, clusterId: options.clusterId },
    orderBy: { id: "desc" },
  });
  if (!row || row.settings === null) return options.observed;
  const override = ZProfileOverrideSchema.parse(row.settings) as PartialSettings;
  const result: Record<string, unknown> = { ...options.observed };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    const setting = key as keyof ProfileSettings;
    const changed = diffProfileSettings({
      from: { [setting]: value },
      to: { [setting]: options.observed[setting] },
    });
    const first = changed[0];
    if (first)
      throw new AppError("CONFLICT", {
        userMessage: `${first.variable} is overridden for cluster "${options.clusterId}" (${JSON.stringify(value)}) and the DaemonSet has ${JSON.stringify(options.observed[setting] ?? null)}: change the cluster's override instead, or restore.`,
      });
    if (options.profileSettings[setting] === undefined) delete result[setting];
    else result[setting] = options.profileSettings[setting];
  }
  return ZProfileSettingsSchema.parse(result);
}

/**
 * Puts the template back as Tapfleet applied it with one strategic merge
 * patch of exactly what differs (guarded by the DaemonSet's resourceVersion),
 * which redeploys the pods.
 */
export async function restoreSensorDrift(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  clusterId: string;
  daemonSet?: { namespace: string; name: string } | undefined;
  now?: Date;
}): Promise<{ restored: DriftChange[]; drift: SensorDrift[] }> {
  const { db, clusterId } = options;
  const { target, daemonSet, changes, kubeConfig } = await driftedTarget(options);
  const container = findDriftContainer(daemonSet, target.expected.container);
  if (!container || typeof container.name !== "string")
    throw new AppError("CONFLICT", {
      userMessage: `DaemonSet ${target.namespace}/${target.name} no longer has the container Tapfleet configures: install the sensor again.`,
    });
  const metadata = daemonSet.metadata as { resourceVersion?: string };
  const patch = restoreSensorTemplatePatch({
    expected: target.expected,
    container: container.name,
    changes,
    resourceVersion: metadata.resourceVersion ?? "",
  });
  try {
    await kubeRequest({
      kubeConfig,
      method: "PATCH",
      path: `${objectPath({ apiVersion: "apps/v1", kind: "DaemonSet", namespace: target.namespace, name: target.name })}?fieldManager=tapfleet`,
      body: patch,
      contentType: "application/strategic-merge-patch+json",
    });
  } catch (error) {
    if (error instanceof KubeRequestError && error.status === 409)
      throw new AppError("CONFLICT", {
        userMessage: `DaemonSet ${target.namespace}/${target.name} changed while it was being restored; look again and retry.`,
        cause: error,
      });
    if (error instanceof KubeRequestError)
      throw new AppError(
        error.status === 403 ? "FORBIDDEN" : error.status === 0 ? "UNAVAILABLE" : "INTERNAL",
        {
          userMessage: `The cluster refused restoring DaemonSet ${target.namespace}/${target.name}: ${error.message}`,
          cause: error,
        },
      );
    throw error;
  }
  const drift = await checkSensorDrift({
    db,
    bus: options.bus,
    kubeConfig,
    clusterId,
    ...(options.now ? { now: options.now } : {}),
  });
  return { restored: changes, drift };
}

/** Asks the leader to check a cluster again (what Tapfleet expects of it changed). */
export async function requestSensorDriftCheck(options: { bus: LiveBus; clusterId: string }): Promise<void> {
  await ask(options.bus, options.clusterId);
}
