// The leader's side of a debug level: read the row and the DaemonSet, decide
// (decide.ts), act, repeat until there is nothing to do but wait. Every write
// is guarded by the row as read and every patch by the DaemonSet's
// resourceVersion, so two leaders for a moment (docs/adr/0009) or a leader
// that died half-way only repeat a step, never undo one.

import type { Db, LiveBus } from "@tapfleet/db";
import {
  daemonSetRolloutProgress,
  readSensorDaemonSet,
  setDaemonSetEnv,
  type KubeDaemonSet,
} from "@tapfleet/kube";
import { DEBUG_LEVEL_VARIABLE } from "@tapfleet/sensor/debug-level";
import { isAppError } from "../errors.ts";
import { publishTopic } from "../live/topics.ts";
import type { SecretBox } from "../secrets.ts";
import { connectDebugLevelCluster, DEBUG_LEVEL_TOPIC, type DebugLevelRow } from "./debug-level.ts";
import {
  nextDebugLevelStep,
  PENDING_DEBUG_LEVEL_STATUSES,
  type DebugLevelStatus,
  type ObservedDebugDaemonSet,
} from "./decide.ts";

/** The clusters whose debug level still needs the leader, with when each reverts. */
export async function listPendingDebugLevels(options: {
  db: Db;
}): Promise<
  { clusterId: string; namespace: string; daemonSetName: string; status: string; revertsAt: Date }[]
> {
  return options.db.debugLevel.findMany({
    where: { status: { in: [...PENDING_DEBUG_LEVEL_STATUSES] } },
    select: { clusterId: true, namespace: true, daemonSetName: true, status: true, revertsAt: true },
    orderBy: { clusterId: "asc" },
  });
}

function observe(row: DebugLevelRow, daemonSet: KubeDaemonSet | null): ObservedDebugDaemonSet {
  if (!daemonSet) return { found: false };
  const container = daemonSet.template.containers.find((c) => c.name === row.container);
  const entry = container?.env[DEBUG_LEVEL_VARIABLE];
  return {
    found: true,
    value: container === undefined ? undefined : entry ? (entry.value ?? entry.valueFrom ?? "") : null,
    rollout: daemonSetRolloutProgress(daemonSet),
  };
}

export interface AdvanceDebugLevelResult {
  /** Still pending after this step (the runner should follow the DaemonSet). */
  pending: boolean;
  /** Whether a rollout is under way (the runner should watch the DaemonSet for it). */
  rolling: boolean;
  /** When to look again at the latest (the revert time), if no event comes first. */
  until: Date | null;
}

/**
 * Takes a cluster's debug level as far as it can go now: patches the
 * DaemonSet, records the progress of its rollout, reverts when the time is
 * up. Resolves with what it waits for. A cluster that cannot be reached
 * rejects (the caller retries), with the reason kept in `lastError`.
 */
export async function advanceDebugLevel(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  clusterId: string;
  now?: () => Date;
  /** A ready client configuration for the cluster (the runner keeps one per cluster). */
  kubeConfig?: Awaited<ReturnType<typeof connectDebugLevelCluster>>;
}): Promise<AdvanceDebugLevelResult> {
  const { db, clusterId } = options;
  const now = options.now ?? (() => new Date());
  let kubeConfig = options.kubeConfig;
  // Each round acts once; a handful is enough to go from "expired" to "patched back".
  for (let round = 0; round < 6; round++) {
    const row = await db.debugLevel.findUnique({ where: { clusterId } });
    if (!row || !(PENDING_DEBUG_LEVEL_STATUSES as readonly string[]).includes(row.status))
      return { pending: false, rolling: false, until: null };
    const guard = { clusterId, status: row.status, setAt: row.setAt, updatedAt: row.updatedAt };
    const record = async (status: DebugLevelStatus, lastError: string | null) => {
      await db.debugLevel.updateMany({
        where: guard,
        data: { status, lastError, updatedAt: now() },
      });
      await publishTopic(options.bus, DEBUG_LEVEL_TOPIC, { clusterId });
    };
    let daemonSet: KubeDaemonSet | null;
    try {
      kubeConfig ??= await connectDebugLevelCluster({ db, secrets: options.secrets, clusterId });
      daemonSet = await readSensorDaemonSet({
        kubeConfig,
        namespace: row.namespace,
        name: row.daemonSetName,
      });
    } catch (error) {
      if (isAppError(error)) {
        // The connection was removed or disabled: nothing can be patched any more.
        await record("failed", error.userMessage);
        return { pending: false, rolling: false, until: null };
      }
      await noteError(db, guard, error);
      throw error;
    }
    const step = nextDebugLevelStep(
      {
        level: row.level,
        previousLevel: row.previousLevel,
        revertsAt: row.revertsAt,
        status: row.status as DebugLevelStatus,
      },
      observe(row, daemonSet),
      now(),
    );
    if (step.kind === "wait") {
      const rolling = daemonSet !== null && !daemonSetRolloutProgress(daemonSet).complete;
      if (row.lastError !== null && row.status !== "failed")
        await db.debugLevel.updateMany({ where: guard, data: { lastError: null } });
      return { pending: true, rolling, until: step.until };
    }
    if (step.kind === "record") {
      await record(step.status, step.error ?? null);
      continue;
    }
    try {
      await setDaemonSetEnv({
        kubeConfig,
        namespace: row.namespace,
        name: row.daemonSetName,
        container: row.container,
        variable: DEBUG_LEVEL_VARIABLE,
        value: step.value,
      });
    } catch (error) {
      await noteError(db, guard, error);
      throw error;
    }
    if (step.status !== row.status) await record(step.status, null);
    else await publishTopic(options.bus, DEBUG_LEVEL_TOPIC, { clusterId });
  }
  return { pending: true, rolling: true, until: null };
}

async function noteError(
  db: Db,
  guard: { clusterId: string; status: string; setAt: Date; updatedAt: Date },
  error: unknown,
): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  await db.debugLevel
    .updateMany({ where: guard, data: { lastError: message.slice(0, 500) } })
    .catch(() => undefined);
}
