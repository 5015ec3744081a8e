// The leader's side of a rollout: read the rows and the clusters under way,
// decide (decide.ts), act once, persist, repeat until there is nothing to do
// but wait. A cluster under way is seen through the leader's watch of it
// (the inventory's informers) when the caller passes one: no API request
// while a gate waits. The object is read once to start (its whole template is
// recorded, then written at once, guarded by that read's generation), before a
// rollback's patch, and when the watch's trimmed view cannot tell the two
// templates apart; a DaemonSet the runner has just written is seen from the
// write's answer until the watch hears of it. Every write is guarded by the row as read (status and updatedAt)
// and every DaemonSet write by the generation it was computed from, so two leaders for a
// moment (docs/adr/0009) or a leader killed half-way only repeat a step,
// never undo one: the template from before is recorded before the first
// patch, and the patch itself is the same whoever writes it.

import type { Db, LiveBus } from "@tapfleet/db";
import type { Prisma } from "@tapfleet/db";
import {
  daemonSetRolloutProgress,
  findCaptureContainer,
  KubeRequestError,
  kubeRequest,
  labelSelectorString,
  listObjects,
  objectPath,
  readObject,
  trimPod,
  trimSensorDaemonSet,
  type ClusterWatch,
  type ContainerState,
  type KubeDaemonSet,
  type KubePod,
} from "@tapfleet/kube";
import { CONFIG_HASH_ANNOTATION, prepareConfigHashKey } from "@tapfleet/sensor/config-hash";
import {
  CAPTURE_CONTAINER_NAME,
  HMAC_SECRET_KEY,
  renderSensorManifests,
  type Secret,
} from "@tapfleet/sensor/manifests";
import { ZSensorSettingsSchema } from "@tapfleet/sensor/settings";
import { isDeepStrictEqual } from "node:util";
import pLimit from "p-limit";
import { z } from "zod";
import { connectDebugLevelCluster } from "../debug-level/debug-level.ts";
import { isAppError } from "../errors.ts";
import { ZReportSummarySchema } from "../ingest/summary.ts";
import { publishTopic } from "../live/topics.ts";
import { getEffectiveSettings } from "../profiles/profiles.ts";
import type { SecretBox } from "../secrets.ts";
import { currentIngestKey } from "../sensor-install/cluster-access.ts";
import { writeAdoptedKeySecret } from "../sensor-install/key-secret.ts";
import {
  nextRolloutSteps,
  type ObservedCluster,
  type RolloutClusterState,
  type RolloutStep,
} from "./decide.ts";
import {
  judgeClusterGate,
  measureHealthBaseline,
  type ContainerEnd,
  type NodeBaseline,
  type NodeHealth,
} from "./gate.ts";
import { ROLLOUTS_TOPIC, ZStoredInstallStateSchema, type RolloutClusterProgress } from "./rollouts.ts";
import {
  ACTIVE_ROLLOUT_STATUSES,
  FINAL_CLUSTER_STATUSES,
  IN_FLIGHT_CLUSTER_STATUSES,
  ZRolloutStrategySchema,
  type RolloutClusterStatus,
  type RolloutStatus,
} from "./schema.ts";
import {
  CONFIG_REVISION_ANNOTATION,
  matchesPodTemplateState,
  matchesWatchedTemplateState,
  mergeRolloutEnv,
  readPodTemplateState,
  rollingUpdateStrategy,
  writePodTemplateState,
  type PodTemplateState,
} from "./template.ts";

type KubeConfig = Awaited<ReturnType<typeof connectDebugLevelCluster>>;
const HMAC_KEY_VARIABLE = "VSENSOR_HMAC_KEY";
type Json = Record<string, unknown>;
type RolloutClusterRow = Prisma.RolloutClusterGetPayload<object>;

const ZPodTemplateStateSchema = z.object({
  container: z.string(),
  image: z.string(),
  env: z.array(
    z.object({
      name: z.string(),
      value: z.string().optional(),
      valueFrom: z.unknown().optional(),
      /** A literal HMAC key, sealed with the server's secret box: never stored in the clear. */
      sealedValue: z.string().optional(),
    }),
  ),
  annotations: z.record(z.string(), z.string()),
  updateStrategy: z.unknown(),
});
/** What RolloutCluster.before holds: the template and the install's record before the change. */
const ZBeforeSchema = z.object({ template: ZPodTemplateStateSchema, install: ZStoredInstallStateSchema });
/** What RolloutCluster.target holds: the template applied and what the install records on success. */
const ZTargetSchema = ZBeforeSchema;
type StoredState = z.output<typeof ZBeforeSchema>;

type StoredTemplate = z.output<typeof ZPodTemplateStateSchema>;

/** The template as it is written to the DaemonSet: a sealed key opened again. */
const toTemplate = (state: StoredTemplate, secrets: SecretBox): PodTemplateState => ({
  ...state,
  env: state.env.map(({ sealedValue, ...entry }) =>
    sealedValue === undefined ? entry : { name: entry.name, value: secrets.open(sealedValue) },
  ),
  updateStrategy: state.updateStrategy ?? null,
});

/**
 * The template as RolloutCluster keeps it: an HMAC key the DaemonSet carried
 * as a literal (an adopted osSensor's) is sealed, so a rollback can put it
 * back while no row holds it in the clear.
 */
const sealTemplate = (state: PodTemplateState, secrets: SecretBox): StoredTemplate => ({
  ...state,
  env: state.env.map((entry) =>
    entry.name === HMAC_KEY_VARIABLE && entry.value !== undefined
      ? { name: entry.name, sealedValue: secrets.seal(entry.value) }
      : entry,
  ),
});

/** The rollouts still in the leader's hands, oldest first. */
export async function listActiveRollouts(options: { db: Db }): Promise<{ id: string; status: string }[]> {
  return options.db.rollout.findMany({
    where: { status: { in: [...ACTIVE_ROLLOUT_STATUSES] } },
    select: { id: true, status: true },
    orderBy: { createdAt: "asc" },
  });
}

// ---------------------------------------------------------------------------
// Observing a cluster

/** What the runner reads of the leader's watch of a cluster. */
export type WatchedCluster = Pick<ClusterWatch, "synced" | "status" | "daemonSets" | "pods">;

interface ClusterLook {
  /** The DaemonSet as the API returned it; null when it came from the watch (trimmed only) or is gone. */
  raw: Json | null;
  daemonSet: KubeDaemonSet | null;
  pods: KubePod[];
}

async function lookAtCluster(
  kubeConfig: KubeConfig,
  ref: { namespace: string; name: string },
  withPods: boolean,
): Promise<ClusterLook> {
  const raw = (await readObject({
    kubeConfig,
    object: { apiVersion: "apps/v1", kind: "DaemonSet", namespace: ref.namespace, name: ref.name },
  })) as Json | null;
  const daemonSet = raw ? (trimSensorDaemonSet(raw) ?? null) : null;
  if (!daemonSet || !withPods) return { raw, daemonSet, pods: [] };
  const selector = labelSelectorString(daemonSet.selector);
  const items = await listObjects({
    kubeConfig,
    path: `${objectPath({ apiVersion: "v1", kind: "Pod", namespace: ref.namespace })}?labelSelector=${encodeURIComponent(selector)}`,
  });
  const pods = items
    .map((item) => trimPod(item))
    .filter((pod) => pod.daemonSetUid === daemonSet.uid && pod.deletionTimestamp === undefined);
  return { raw, daemonSet, pods };
}

/** The DaemonSet and its live pods as the leader's watch holds them now. */
function watchedLook(watch: WatchedCluster, ref: { namespace: string; name: string }): ClusterLook {
  const daemonSet =
    watch.daemonSets().find((d) => d.namespace === ref.namespace && d.name === ref.name) ?? null;
  if (!daemonSet) return { raw: null, daemonSet: null, pods: [] };
  const pods = watch
    .pods()
    .filter((pod) => pod.daemonSetUid === daemonSet.uid && pod.deletionTimestamp === undefined);
  return { raw: null, daemonSet, pods };
}

/** Why a cluster's watch cannot be decided on now, or null when it is current. */
function watchNotCurrent(watch: WatchedCluster | undefined): string | null {
  if (!watch) return "the leader is not watching the cluster yet (its connection is starting)";
  if (watch.status.state === "unreachable")
    return `the cluster's watch is unreachable${watch.status.lastError ? `: ${watch.status.lastError}` : ""}`;
  if (!watch.synced || watch.status.state !== "reachable")
    return "the cluster's watch has not listed the cluster yet (just connected)";
  return null;
}

/** Whether a pod runs `state`: its capture image and Tapfleet's annotations are the template's. */
function podRuns(pod: KubePod, state: PodTemplateState): boolean {
  return (
    pod.images[state.container] === state.image &&
    pod.tapfleetAnnotations[CONFIG_HASH_ANNOTATION] === state.annotations[CONFIG_HASH_ANNOTATION] &&
    pod.tapfleetAnnotations[CONFIG_REVISION_ANNOTATION] === state.annotations[CONFIG_REVISION_ANNOTATION]
  );
}

const containerEnd = (state: ContainerState): ContainerEnd => ({
  reason: state.reason ?? null,
  message: state.message ?? null,
  exitCode: state.exitCode ?? null,
});

/** One entry per node: its newest pod, with the agent's latest report. */
async function nodeHealth(options: {
  db: Db;
  clusterId: string;
  look: ClusterLook;
  container: string;
  target: PodTemplateState | null;
}): Promise<NodeHealth[]> {
  const sensors = await options.db.sensor.findMany({
    where: { clusterId: options.clusterId },
    select: { nodeName: true, podName: true, lastSeenAt: true, lastSummary: true },
  });
  const agents = new Map(sensors.map((sensor) => [sensor.nodeName, sensor]));
  const newest = new Map<string, KubePod>();
  for (const pod of options.look.pods) {
    const node = pod.nodeName;
    if (!node) continue;
    const seen = newest.get(node);
    if (!seen || (pod.creationTimestamp ?? "") > (seen.creationTimestamp ?? "")) newest.set(node, pod);
  }
  return [...newest.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([nodeName, pod]) => {
      const status = pod.containers.find((c) => c.name === options.container);
      const agent = agents.get(nodeName);
      const summary = ZReportSummarySchema.safeParse(agent?.lastSummary);
      return {
        nodeName,
        podName: pod.name,
        updated: options.target ? podRuns(pod, options.target) : false,
        ready: pod.ready?.status === "True",
        waitingReason: status?.state.state === "waiting" ? (status.state.reason ?? null) : null,
        restarts: status?.restartCount ?? 0,
        terminated: status?.state.state === "terminated" ? containerEnd(status.state) : null,
        lastTermination: status?.lastTerminated ? containerEnd(status.lastTerminated) : null,
        agent: agent
          ? {
              podName: agent.podName,
              lastSeenAt: agent.lastSeenAt,
              packets: summary.success ? summary.data.packets : 0,
              drops: summary.success ? summary.data.kernelDrops + summary.data.interfaceDrops : 0,
            }
          : null,
      };
    });
}

// ---------------------------------------------------------------------------
// The target template

async function renderTarget(options: {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
  install: { namespace: string; name: string; captureMode: string; networkPolicy: boolean };
  rollout: { profileId: string; revision: number; image: string | null; strategy: unknown };
  before: PodTemplateState;
  now: Date;
}): Promise<{ stored: StoredState; keySecret: Secret | null }> {
  const { db, clusterId, rollout, install } = options;
  const effective = await getEffectiveSettings({
    db,
    profileId: rollout.profileId,
    clusterId,
    revision: rollout.revision,
  });
  const settings = Object.fromEntries(
    effective.settings
      .filter((entry) => entry.source.kind === "profile" || entry.source.kind === "override")
      .map((entry) => [entry.setting, entry.value]),
  );
  const hmacKey = await currentIngestKey(db, options.secrets, clusterId, options.now);
  // The key's scrypt on the thread pool: a wave of clusters renders without holding the event loop.
  await prepareConfigHashKey(hmacKey);
  const image = rollout.image ?? options.before.image;
  const rendered = renderSensorManifests({
    settings: ZSensorSettingsSchema.parse({
      ...settings,
      hmacKey,
      clusterId,
    }),
    image,
    namespace: install.namespace,
    name: install.name,
    captureMode: install.captureMode === "capabilities" ? "capabilities" : "privileged",
    networkPolicy: { enabled: install.networkPolicy },
  });
  const capture = rendered.objects.daemonSet.spec.template.spec.containers.find(
    (container) => container.name === CAPTURE_CONTAINER_NAME,
  );
  const strategy = ZRolloutStrategySchema.parse(rollout.strategy);
  const env = mergeRolloutEnv({ rendered: capture?.env ?? [], current: options.before.env });
  const keyEntry = env.find((entry) => entry.name === HMAC_KEY_VARIABLE);
  // The key Secret the rendered DaemonSet names, when the env now reads the key from it (not from a
  // Secret of the cluster owner's that the DaemonSet referenced already: that reference is kept).
  const keySecret =
    rendered.objects.secret !== undefined &&
    keyEntry?.valueFrom !== undefined &&
    isDeepStrictEqual(keyEntry.valueFrom, {
      secretKeyRef: { name: rendered.objects.secret.metadata.name, key: HMAC_SECRET_KEY },
    })
      ? rendered.objects.secret
      : null;
  const stored: StoredState = {
    template: {
      container: options.before.container,
      image,
      env,
      annotations: {
        ...options.before.annotations,
        [CONFIG_HASH_ANNOTATION]: rendered.configHash,
        [CONFIG_REVISION_ANNOTATION]: `${rollout.profileId}@${rollout.revision}`,
      },
      updateStrategy: rollingUpdateStrategy(strategy),
    },
    install: {
      profileId: rollout.profileId,
      profileRevision: rollout.revision,
      settings,
      image,
      configHash: rendered.configHash,
    },
  };
  return { stored, keySecret };
}

// ---------------------------------------------------------------------------
// One rollout, as far as it can go now

export interface AdvanceRolloutResult {
  /** Still in the leader's hands. */
  active: boolean;
  /** A cluster is under way: look again when its watch or its agents' reports change. */
  inFlight: boolean;
  /** The clusters under way (their watch events and agents' reports are worth a look). */
  clustersUnderWay: string[];
  /** When to look again at the latest (a gate's deadline), if nothing else comes first. */
  until: Date | null;
}

/**
 * The runner's transactions record a step already taken (the rollout's end, a
 * gate passed): waiting for a pooled connection while a wave keeps the pool
 * busy is right, failing the pass at Prisma's 2 s only makes it run again. Their
 * statements are short; the time-out guards against a stuck connection.
 */
const STEP_TRANSACTION = { maxWait: 10_000, timeout: 30_000 } as const;

/**
 * Takes a rollout as far as it can go now: starts clusters, patches their
 * DaemonSets, judges their gates, rolls back, finishes. A cluster that cannot
 * be reached is noted in its row and waited for (up to its deadline).
 */
export async function advanceRollout(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  rolloutId: string;
  now?: () => Date;
  /** Client configurations by cluster id, kept by the caller between calls. */
  kubeConfigs?: Map<string, KubeConfig>;
  /** Clusters observed and changed at once (default 64). */
  concurrency?: number;
  /**
   * The leader's watch of a cluster, if it has one. When given, a cluster
   * gating or rolling back is observed from it (and waited for while it is
   * not synced) instead of reading the API.
   */
  watches?: (clusterId: string) => WatchedCluster | undefined;
}): Promise<AdvanceRolloutResult> {
  const { db, bus, secrets, rolloutId } = options;
  const now = options.now ?? (() => new Date());
  const kubeConfigs = options.kubeConfigs ?? new Map<string, KubeConfig>();
  const limit = pLimit(options.concurrency ?? 64);
  const connect = async (clusterId: string) => {
    let kubeConfig = kubeConfigs.get(clusterId);
    if (!kubeConfig) {
      kubeConfig = await connectDebugLevelCluster({ db, secrets, clusterId });
      kubeConfigs.set(clusterId, kubeConfig);
    }
    return kubeConfig;
  };
  const publish = (status: string) => publishTopic(bus, ROLLOUTS_TOPIC, { rolloutId, status });
  const isInFlight = (status: string) => (IN_FLIGHT_CLUSTER_STATUSES as readonly string[]).includes(status);
  let underWay: string[] = [];
  /**
   * The DaemonSets this call wrote, as the API answered the write (the object
   * at that resourceVersion): a cluster just patched is seen applying from it
   * instead of a read made before the leader's watch has heard of the change.
   */
  const written = new Map<string, Json>();
  /** The clusters this round started, to be recorded (guarded by their rows) and then patched. */
  const starts: Array<{
    guard: { rolloutId: string; clusterId: string; status: string; updatedAt: Date };
    data: {
      status: string;
      before: Prisma.InputJsonValue;
      target: Prisma.InputJsonValue;
      baseline: Prisma.InputJsonValue;
      startedAt: Date;
      lastError: null;
      updatedAt: Date;
    };
    patch: () => Promise<"done" | "retry-later">;
  }> = [];

  for (let round = 0; round < 20; round++) {
    const rollout = await db.rollout.findUnique({ where: { id: rolloutId }, include: { clusters: true } });
    if (!rollout || !(ACTIVE_ROLLOUT_STATUSES as readonly string[]).includes(rollout.status))
      return { active: false, inFlight: false, clustersUnderWay: [], until: null };
    const strategy = ZRolloutStrategySchema.parse(rollout.strategy);
    const clusters = [...rollout.clusters].sort((a, b) => a.position - b.position);
    underWay = clusters.filter((row) => isInFlight(row.status)).map((row) => row.clusterId);

    // Observe the clusters under way.
    const observed: Record<string, ObservedCluster> = {};
    await Promise.all(
      clusters
        .filter((row) => isInFlight(row.status))
        .map((row) =>
          limit(async () => {
            observed[row.clusterId] = await observeCluster(row);
          }),
        ),
    );

    const at = now();
    const steps = nextRolloutSteps(
      {
        status: rollout.status as RolloutStatus,
        reason: rollout.reason,
        clusters: clusters.map((row): RolloutClusterState => ({
          clusterId: row.clusterId,
          wave: row.wave,
          status: row.status as RolloutClusterStatus,
          deadline: row.gateDeadline,
          reason: row.reason,
        })),
      },
      observed,
      at,
    );
    const first = steps[0]!;
    const rolloutGuard = { id: rolloutId, status: rollout.status, updatedAt: rollout.updatedAt };

    if (first.kind === "wait")
      return { active: true, inFlight: underWay.length > 0, clustersUnderWay: underWay, until: first.until };

    if (first.kind === "record-rollout") {
      await db.rollout.updateMany({ where: rolloutGuard, data: { status: first.status, updatedAt: at } });
      await publish(first.status);
      continue;
    }

    if (first.kind === "finish") {
      const skipped = `not started: the rollout ${first.status === "aborted" ? "was aborted" : `ended ${first.status}`}`;
      await db.$transaction(async (tx) => {
        const updated = await tx.rollout.updateMany({
          where: rolloutGuard,
          data: {
            status: first.status,
            ...(first.reason === null ? {} : { reason: first.reason }),
            finishedAt: at,
            updatedAt: at,
          },
        });
        if (updated.count === 0) return;
        await tx.rolloutCluster.updateMany({
          where: { rolloutId, status: "pending" },
          data: { status: "skipped", reason: skipped, finishedAt: at, updatedAt: at },
        });
      }, STEP_TRANSACTION);
      await publish(first.status);
      continue;
    }

    // One step per cluster, taken together; each is guarded by its own row.
    starts.length = 0;
    const outcomes = await Promise.all(
      steps.map((step) =>
        limit(() => {
          if (step.kind === "wait" || step.kind === "record-rollout" || step.kind === "finish")
            return Promise.resolve("done" as const);
          const row = clusters.find((c) => c.clusterId === step.clusterId)!;
          return takeClusterStep(row, step, rollout, strategy.gateSeconds, at);
        }),
      ),
    );
    // The clusters started in this round (read, rendered, baselined) are recorded in one
    // statement, then all patched at once: a wave's patches go out together, not each behind the
    // database writes of the others and the pods the first patches already recreate. A write that
    // fails leaves every row pending and nothing patched: the next pass starts them again.
    if (starts.length > 0) {
      const ready = starts.splice(0);
      const recorded = await recordStarts(db, rolloutId, ready);
      outcomes.push(
        ...(await Promise.all(
          ready.filter((start) => recorded.has(start.guard.clusterId)).map((start) => limit(start.patch)),
        )),
      );
    }
    await publish(rollout.status);
    // A cluster that cannot be reached now: look again after the caller's pause, not in a tight loop.
    if (outcomes.includes("retry-later"))
      return { active: true, inFlight: true, clustersUnderWay: underWay, until: null };
  }
  return { active: true, inFlight: true, clustersUnderWay: underWay, until: null };

  // -------------------------------------------------------------------------

  async function observeCluster(row: RolloutClusterRow): Promise<ObservedCluster> {
    const before = ZBeforeSchema.safeParse(row.before);
    const target = ZTargetSchema.safeParse(row.target);
    if (!before.success || !target.success) return { reachable: true, daemonSet: null };
    try {
      const gating = row.status === "gating";
      const rollingBack = row.status === "rolling-back";
      const ref = { namespace: row.namespace, name: row.daemonSetName };
      const targetTemplate = toTemplate(target.data.template, secrets);
      const beforeTemplate = toTemplate(before.data.template, secrets);
      let look: ClusterLook | null = null;
      let template: "target" | "before" | "other" | null = null;
      if (options.watches && (gating || rollingBack)) {
        const watch = options.watches(row.clusterId);
        const notCurrent = watchNotCurrent(watch);
        if (notCurrent !== null) {
          // Not decided on stale data: the cluster waits (up to its deadline), saying why.
          await recordWaitingFor(db, row, [notCurrent], now());
          return { reachable: false, error: notCurrent };
        }
        look = watchedLook(watch!, ref);
        if (look.daemonSet) {
          const isTarget = matchesWatchedTemplateState(look.daemonSet, targetTemplate);
          const isBefore = matchesWatchedTemplateState(look.daemonSet, beforeTemplate);
          // The template this state expects, told apart for sure: decided on the watch alone.
          // Anything else (our patch not seen yet, a change by someone, templates differing in
          // their strategy alone) is confirmed by reading the object.
          if (gating && isTarget && !isBefore) template = "target";
          if (rollingBack && isBefore && !isTarget) template = "before";
          // Our own write, not heard by the watch yet: the write's answer is the object now.
          const own = written.get(row.clusterId);
          const ownDaemonSet = own ? trimSensorDaemonSet(own) : undefined;
          if (
            template === null &&
            own &&
            ownDaemonSet?.uid === look.daemonSet.uid &&
            ownDaemonSet.generation > look.daemonSet.generation
          )
            template = matchesPodTemplateState(own, targetTemplate)
              ? "target"
              : matchesPodTemplateState(own, beforeTemplate)
                ? "before"
                : "other";
        }
      }
      const ownWrite = row.status === "applying" ? written.get(row.clusterId) : undefined;
      if (template === null && ownWrite) {
        const daemonSet = trimSensorDaemonSet(ownWrite) ?? null;
        if (daemonSet && matchesPodTemplateState(ownWrite, targetTemplate)) {
          template = "target";
          look = { raw: ownWrite, daemonSet, pods: [] };
        }
      }
      if (template === null) {
        const kubeConfig = await connect(row.clusterId);
        const read = await lookAtCluster(kubeConfig, ref, (gating || rollingBack) && !look?.daemonSet);
        if (!read.raw || !read.daemonSet) return { reachable: true, daemonSet: null };
        template = matchesPodTemplateState(read.raw, targetTemplate)
          ? "target"
          : matchesPodTemplateState(read.raw, beforeTemplate)
            ? "before"
            : "other";
        look = look?.daemonSet ? look : read;
      }
      if (!look?.daemonSet) return { reachable: true, daemonSet: null };
      const progress = daemonSetRolloutProgress(look.daemonSet);
      let gate = null;
      if (gating && row.changedAt && row.gateDeadline) {
        const nodes = await nodeHealth({
          db,
          clusterId: row.clusterId,
          look,
          container: targetTemplate.container,
          target: targetTemplate,
        });
        gate = judgeClusterGate({
          baseline: z.array(z.custom<NodeBaseline>()).catch([]).parse(row.baseline),
          nodes,
          rollout: progress,
          changedAt: row.changedAt,
          deadline: row.gateDeadline,
          now: now(),
        });
        await recordProgress(db, row, progress, nodes, gate.verdict === "wait" ? gate.pending : [], now());
      } else if (rollingBack) {
        // The pods going back: "updated" then means "runs the template from before".
        const nodes = await nodeHealth({
          db,
          clusterId: row.clusterId,
          look,
          container: beforeTemplate.container,
          target: beforeTemplate,
        });
        await recordProgress(db, row, progress, nodes, [], now());
      }
      if (row.lastError !== null)
        await db.rolloutCluster.updateMany({
          where: { rolloutId, clusterId: row.clusterId, status: row.status },
          data: { lastError: null },
        });
      return { reachable: true, daemonSet: { template, rollout: progress }, gate };
    } catch (error) {
      const message = describeError(error);
      kubeConfigs.delete(row.clusterId);
      await db.rolloutCluster.updateMany({
        where: { rolloutId, clusterId: row.clusterId, status: row.status },
        data: { lastError: message },
      });
      return { reachable: false, error: message };
    }
  }

  async function takeClusterStep(
    row: RolloutClusterRow,
    step: Exclude<RolloutStep, { kind: "wait" | "record-rollout" | "finish" }>,
    rollout: { profileId: string; revision: number; image: string | null; strategy: unknown },
    gateSeconds: number,
    at: Date,
  ): Promise<"done" | "retry-later"> {
    const clusterGuard = {
      rolloutId,
      clusterId: row.clusterId,
      status: row.status,
      updatedAt: row.updatedAt,
    };

    if (step.kind === "start-cluster") {
      try {
        const kubeConfig = await connect(row.clusterId);
        // The template is read from the API (the watch keeps a trimmed copy: no env reference's
        // source, no update strategy — what a rollback puts back must be whole); the pods for the
        // baseline come from the leader's watch when it is current, else from a list.
        const ref = { namespace: row.namespace, name: row.daemonSetName };
        const watch = options.watches?.(row.clusterId);
        const fromWatch = watch && watchNotCurrent(watch) === null ? watch : undefined;
        const look = await lookAtCluster(kubeConfig, ref, !fromWatch);
        if (fromWatch && look.daemonSet) {
          const uid = look.daemonSet.uid;
          look.pods = fromWatch
            .pods()
            .filter((pod) => pod.daemonSetUid === uid && pod.deletionTimestamp === undefined);
        }
        const container = look.daemonSet ? findCaptureContainer(look.daemonSet) : undefined;
        const template = look.raw && container ? readPodTemplateState(look.raw, container.name) : null;
        if (!template) {
          await db.rolloutCluster.updateMany({
            where: clusterGuard,
            data: {
              status: "failed",
              reason: look.raw
                ? `DaemonSet ${row.namespace}/${row.daemonSetName} has no capture container`
                : `DaemonSet ${row.namespace}/${row.daemonSetName} is gone`,
              startedAt: at,
              finishedAt: at,
              updatedAt: at,
            },
          });
          return "done";
        }
        const install = await db.sensorInstall.findUnique({ where: { clusterId: row.clusterId } });
        if (!install) {
          await db.rolloutCluster.updateMany({
            where: clusterGuard,
            data: {
              status: "failed",
              reason: "the sensor is no longer managed by Tapfleet (uninstalled)",
              startedAt: at,
              finishedAt: at,
              updatedAt: at,
            },
          });
          return "done";
        }
        const before: StoredState = {
          template,
          install: {
            profileId: install.profileId,
            profileRevision: install.profileRevision,
            settings: install.settings,
            image: install.image,
            configHash: install.configHash,
          },
        };
        const { stored: target, keySecret } = await renderTarget({
          db,
          secrets,
          clusterId: row.clusterId,
          install,
          rollout,
          before: template,
          now: at,
        });
        const nodes = await nodeHealth({
          db,
          clusterId: row.clusterId,
          look,
          container: template.container,
          target: null,
        });
        const baseline = measureHealthBaseline({ nodes, now: at });
        // An adopted DaemonSet whose key was a literal (or not set) reads it from Tapfleet's Secret from
        // this change on: the Secret is written first (an installed sensor's is the install's to write).
        if (keySecret !== null && install.origin === "adopted")
          await writeAdoptedKeySecret({ db, clusterId: row.clusterId, kubeConfig, secret: keySecret });
        // Recorded before the first patch: whatever happens next, the rollback knows what to put back.
        // The wave's starts are recorded together, then patched together (see the round above).
        starts.push({
          guard: clusterGuard,
          data: {
            status: "applying",
            before: {
              ...before,
              template: sealTemplate(before.template, secrets),
            } as unknown as Prisma.InputJsonValue,
            target: {
              ...target,
              template: sealTemplate(target.template, secrets),
            } as unknown as Prisma.InputJsonValue,
            baseline: baseline as unknown as Prisma.InputJsonValue,
            startedAt: at,
            lastError: null,
            updatedAt: at,
          },
          // The first patch on the object just read: its generation guards the patch, so a change
          // of the spec made since is refused and the cluster, now applying, is patched next round.
          patch: () => patchDaemonSet({ ...row, status: "applying" }, kubeConfig, look.raw!, target.template),
        });
        return "done";
      } catch (error) {
        if (error instanceof KubeRequestError) {
          kubeConfigs.delete(row.clusterId);
          await db.rolloutCluster.updateMany({
            where: clusterGuard,
            data: { lastError: describeError(error) },
          });
          return "retry-later";
        }
        // Nothing was changed yet: a cluster that cannot be changed (no ingest key, a connection
        // removed, settings the contract refuses) fails before its first patch, saying why.
        await db.rolloutCluster.updateMany({
          where: clusterGuard,
          data: {
            status: "failed",
            reason: describeError(error),
            startedAt: at,
            finishedAt: at,
            updatedAt: at,
          },
        });
        return "done";
      }
    }

    if (step.kind === "patch") {
      const stored = step.to === "target" ? ZTargetSchema.parse(row.target) : ZBeforeSchema.parse(row.before);
      try {
        const kubeConfig = await connect(row.clusterId);
        const ref = {
          apiVersion: "apps/v1",
          kind: "DaemonSet",
          namespace: row.namespace,
          name: row.daemonSetName,
        };
        const raw = (await readObject({ kubeConfig, object: ref })) as Json | null;
        return raw ? await patchDaemonSet(row, kubeConfig, raw, stored.template) : "done";
      } catch (error) {
        return patchFailed(row, error);
      }
    }

    // record-cluster
    return recordCluster(row, step, gateSeconds, at, clusterGuard);
  }

  /**
   * Writes `template` into the DaemonSet `raw` with one JSON patch that first
   * tests raw's generation: a change of the spec made since `raw` was read is
   * refused and seen next round, while the status the controller keeps
   * updating (which moves the resourceVersion, and made a PUT carrying it fail
   * with 409 under load) does not stand in the way. The patch sets the spec and
   * the DaemonSet's annotations as writePodTemplateState makes them from raw.
   * The answer is kept as this call's view of the object.
   */
  async function patchDaemonSet(
    row: { clusterId: string; status: string; namespace: string; daemonSetName: string },
    kubeConfig: KubeConfig,
    raw: Json,
    template: z.output<typeof ZPodTemplateStateSchema>,
  ): Promise<"done" | "retry-later"> {
    try {
      const changed = writePodTemplateState(raw, toTemplate(template, secrets)) as {
        metadata: { generation?: number; annotations: Json };
        spec: Json;
      };
      const answer = await kubeRequest({
        kubeConfig,
        method: "PATCH",
        contentType: "application/json-patch+json",
        path: objectPath({
          apiVersion: "apps/v1",
          kind: "DaemonSet",
          namespace: row.namespace,
          name: row.daemonSetName,
        }),
        body: [
          { op: "test", path: "/metadata/generation", value: changed.metadata.generation },
          { op: "add", path: "/spec", value: changed.spec },
          { op: "add", path: "/metadata/annotations", value: changed.metadata.annotations },
        ],
      });
      if (answer !== null && typeof answer === "object") written.set(row.clusterId, answer as Json);
      return "done";
    } catch (error) {
      return patchFailed(row, error);
    }
  }

  async function patchFailed(
    row: { clusterId: string; status: string },
    error: unknown,
  ): Promise<"done" | "retry-later"> {
    kubeConfigs.delete(row.clusterId);
    await db.rolloutCluster.updateMany({
      where: { rolloutId, clusterId: row.clusterId, status: row.status },
      data: { lastError: describeError(error) },
    });
    // Refused because the DaemonSet changed since it was read (a failed test: 422 from Kubernetes,
    // 400 from kube-sim; 409 for a stale resourceVersion): seen as it is next round.
    return error instanceof KubeRequestError && [400, 409, 422].includes(error.status)
      ? "done"
      : "retry-later";
  }

  async function recordCluster(
    row: RolloutClusterRow,
    step: Extract<RolloutStep, { kind: "record-cluster" }>,
    gateSeconds: number,
    at: Date,
    clusterGuard: { rolloutId: string; clusterId: string; status: string; updatedAt: Date },
  ): Promise<"done" | "retry-later"> {
    const final = (FINAL_CLUSTER_STATUSES as readonly string[]).includes(step.status);
    const deadline =
      step.gate || step.status === "rolling-back" ? new Date(at.getTime() + gateSeconds * 1000) : undefined;
    const data = {
      status: step.status,
      ...(step.reason === undefined ? {} : { reason: step.reason }),
      ...(step.gate ? { changedAt: at } : {}),
      ...(deadline ? { gateDeadline: deadline } : {}),
      ...(final ? { finishedAt: at } : {}),
      updatedAt: at,
    };
    if (step.status !== "succeeded") {
      await db.rolloutCluster.updateMany({ where: clusterGuard, data });
      return "done";
    }
    // Passed: the install's record becomes what the DaemonSet now runs, in the same transaction.
    const target = ZTargetSchema.parse(row.target);
    await db.$transaction(async (tx) => {
      const updated = await tx.rolloutCluster.updateMany({ where: clusterGuard, data });
      if (updated.count === 0) return;
      // updateMany: an install removed meanwhile is nothing to record, not an error to retry forever.
      await tx.sensorInstall.updateMany({
        where: { clusterId: row.clusterId },
        data: {
          profileId: target.install.profileId,
          profileRevision: target.install.profileRevision,
          settings: target.install.settings as Prisma.InputJsonValue,
          image: target.install.image,
          configHash: target.install.configHash,
        },
      });
    }, STEP_TRANSACTION);
    return "done";
  }
}

/**
 * Records the clusters a round started as applying, with their template from
 * before, their target and their baseline, in one statement (a wave of 50
 * clusters was 50 writes, and as many round trips to a busy pool), each row
 * guarded by its status and updatedAt as read. Returns the clusters recorded.
 */
async function recordStarts(
  db: Db,
  rolloutId: string,
  starts: ReadonlyArray<{
    guard: { clusterId: string; status: string; updatedAt: Date };
    data: {
      status: string;
      before: Prisma.InputJsonValue;
      target: Prisma.InputJsonValue;
      baseline: Prisma.InputJsonValue;
      startedAt: Date;
      updatedAt: Date;
    };
  }>,
): Promise<Set<string>> {
  const recorded = new Set<string>();
  // Nine parameters a row: 500 rows stay far below PostgreSQL's 65,535.
  for (let from = 0; from < starts.length; from += 500) {
    const chunk = starts.slice(from, from + 500);
    const params: unknown[] = [rolloutId];
    const rows = chunk.map(({ guard, data }) => {
      const at = params.length;
      params.push(
        guard.clusterId,
        guard.status,
        guard.updatedAt.toISOString(),
        data.status,
        JSON.stringify(data.before),
        JSON.stringify(data.target),
        JSON.stringify(data.baseline),
        data.startedAt.toISOString(),
        data.updatedAt.toISOString(),
      );
      const p = (i: number) => `$${at + i}`;
      return `(${p(1)}, ${p(2)}, ${p(3)}::timestamptz, ${p(4)}, ${p(5)}::jsonb, ${p(6)}::jsonb, ${p(7)}::jsonb, ${p(8)}::timestamptz, ${p(9)}::timestamptz)`;
    });
    const answer = await db.$queryRawUnsafe<Array<{ clusterId: string }>>(
      `UPDATE "RolloutCluster" AS rc
          SET "status" = v."newStatus", "before" = v."before", "target" = v."target",
              "baseline" = v."baseline", "startedAt" = v."startedAt", "lastError" = NULL,
              "updatedAt" = v."newUpdatedAt"
         FROM (VALUES ${rows.join(", ")})
           AS v("clusterId", "status", "updatedAt", "newStatus", "before", "target", "baseline",
                "startedAt", "newUpdatedAt")
        WHERE rc."rolloutId" = $1::uuid AND rc."clusterId" = v."clusterId"
          AND rc."status" = v."status" AND rc."updatedAt" = v."updatedAt"
    RETURNING rc."clusterId"`,
      ...params,
    );
    for (const row of answer) recorded.add(row.clusterId);
  }
  return recorded;
}

async function recordProgress(
  db: Db,
  row: { rolloutId: string; clusterId: string; status: string; nodes: unknown },
  progress: { desired: number; updated: number; ready: number; available: number },
  nodes: NodeHealth[],
  waitingFor: string[],
  at: Date,
): Promise<void> {
  const view: Omit<RolloutClusterProgress, "observedAt"> = {
    desired: progress.desired,
    updated: progress.updated,
    ready: progress.ready,
    available: progress.available,
    nodes: nodes.map((node) => ({
      nodeName: node.nodeName,
      podName: node.podName,
      updated: node.updated,
      ready: node.ready,
      restarts: node.restarts,
      waitingReason: node.waitingReason,
      reporting: node.agent === null ? null : node.agent.podName === node.podName,
    })),
    waitingFor,
  };
  const { observedAt: _observedAt, ...previous } = (row.nodes ?? {}) as Json;
  if (JSON.stringify(previous) === JSON.stringify(view)) return;
  await db.rolloutCluster.updateMany({
    where: { rolloutId: row.rolloutId, clusterId: row.clusterId, status: row.status },
    data: { nodes: { observedAt: at.toISOString(), ...view } as unknown as Prisma.InputJsonValue },
  });
}

/** Says in the cluster's progress what it waits for, keeping what was observed last. */
async function recordWaitingFor(
  db: Db,
  row: { rolloutId: string; clusterId: string; status: string; nodes: unknown },
  waitingFor: string[],
  at: Date,
): Promise<void> {
  const previous = (row.nodes ?? {}) as Json;
  if (JSON.stringify(previous.waitingFor) === JSON.stringify(waitingFor)) return;
  const view = {
    desired: 0,
    updated: 0,
    ready: 0,
    available: 0,
    nodes: [],
    ...previous,
    observedAt: at.toISOString(),
    waitingFor,
  };
  await db.rolloutCluster.updateMany({
    where: { rolloutId: row.rolloutId, clusterId: row.clusterId, status: row.status },
    data: { nodes: view },
  });
}

function describeError(error: unknown): string {
  if (isAppError(error)) return error.userMessage;
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}
