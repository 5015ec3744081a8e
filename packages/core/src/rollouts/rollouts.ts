// Rollouts: what the API calls. Starting one checks the revision and every
// target cluster and records the plan ("pending"); the leader's runner
// (runner.ts) does the rest. Pause, resume and abort record the operator's
// wish, guarded by the status as read; the runner acts on it.

import { randomUUID } from "node:crypto";
import type { Db, LiveBus } from "@tapfleet/db";
import type { Prisma } from "@tapfleet/db";
import { z } from "zod";
import type { AuthenticatedActor } from "../actor.ts";
import { PENDING_DEBUG_LEVEL_STATUSES } from "../debug-level/decide.ts";
import { AppError } from "../errors.ts";
import { defineTopic, publishTopic } from "../live/topics.ts";
import type { NodeBaseline } from "./gate.ts";
import {
  ACTIVE_ROLLOUT_STATUSES,
  planRolloutWaves,
  ZRolloutStrategySchema,
  type RolloutClusterStatus,
  type RolloutStatus,
  type RolloutStrategy,
  type StartRollout,
} from "./schema.ts";

/** "This rollout changed": wakes the leader's runner and the pages following it. */
export const ROLLOUTS_TOPIC = defineTopic(
  "rollouts",
  z.object({ rolloutId: z.string(), status: z.string() }),
);

/** One node of a cluster under way, as the leader last saw it. */
export interface RolloutNodeView {
  nodeName: string;
  podName: string | null;
  /** Runs the template being applied: the new one, or while rolling back the one from before. */
  updated: boolean;
  ready: boolean;
  restarts: number;
  waitingReason: string | null;
  /** The agent on the node reported since the change (null: it never reported). */
  reporting: boolean | null;
}

/** The cluster's DaemonSet and nodes as the leader last observed them. */
export interface RolloutClusterProgress {
  observedAt: Date;
  desired: number;
  updated: number;
  ready: number;
  available: number;
  nodes: RolloutNodeView[];
  /** What the gate still waits for. */
  waitingFor: string[];
}

export interface RolloutClusterView {
  clusterId: string;
  position: number;
  wave: number;
  status: RolloutClusterStatus;
  daemonSet: { namespace: string; name: string };
  /** The profile revision in force before the change (null: settings given at install). */
  previous: { profileId: string | null; revision: number | null } | null;
  reason: string | null;
  lastError: string | null;
  startedAt: Date | null;
  changedAt: Date | null;
  gateDeadline: Date | null;
  finishedAt: Date | null;
  baseline: NodeBaseline[] | null;
  progress: RolloutClusterProgress | null;
}

export interface RolloutSummaryView {
  id: string;
  profile: { id: string; name: string };
  revision: number;
  image: string | null;
  strategy: RolloutStrategy;
  status: RolloutStatus;
  reason: string | null;
  startedBy: { type: "user" | "token" | "system"; id: string | null; name: string };
  createdAt: Date;
  finishedAt: Date | null;
  /** From start to end (or to now, while it runs). */
  durationMs: number;
  clusters: Array<{ clusterId: string; wave: number; status: RolloutClusterStatus }>;
}

export interface RolloutView extends Omit<RolloutSummaryView, "clusters"> {
  clusters: RolloutClusterView[];
}

// ---------------------------------------------------------------------------
// Stored JSON, read back through schemas (never cast)

export const ZStoredInstallStateSchema = z.object({
  profileId: z.string().nullable(),
  profileRevision: z.number().nullable(),
  settings: z.unknown(),
  image: z.string(),
  configHash: z.string(),
});

const ZBaselineSchema = z.array(
  z.object({
    nodeName: z.string(),
    ready: z.boolean(),
    reporting: z.boolean(),
    capturing: z.boolean(),
    dropRate: z.number().nullable(),
  }),
);

export const ZStoredProgressSchema = z.object({
  observedAt: z.coerce.date(),
  desired: z.number(),
  updated: z.number(),
  ready: z.number(),
  available: z.number(),
  nodes: z.array(
    z.object({
      nodeName: z.string(),
      podName: z.string().nullable(),
      updated: z.boolean(),
      ready: z.boolean(),
      restarts: z.number(),
      waitingReason: z.string().nullable(),
      reporting: z.boolean().nullable(),
    }),
  ),
  waitingFor: z.array(z.string()),
});

type RolloutRow = Prisma.RolloutGetPayload<{
  include: { clusters: true; profile: { select: { name: true } } };
}>;

function startedBy(row: RolloutRow): RolloutSummaryView["startedBy"] {
  const type = row.startedByType === "user" || row.startedByType === "token" ? row.startedByType : "system";
  return { type, id: row.startedById, name: row.startedByName };
}

function summaryOf(row: RolloutRow, now: Date): Omit<RolloutSummaryView, "clusters"> {
  return {
    id: row.id,
    profile: { id: row.profileId, name: row.profile.name },
    revision: row.revision,
    image: row.image,
    strategy: ZRolloutStrategySchema.parse(row.strategy),
    status: row.status as RolloutStatus,
    reason: row.reason,
    startedBy: startedBy(row),
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
    durationMs: (row.finishedAt ?? now).getTime() - row.createdAt.getTime(),
  };
}

const byPosition = (a: { position: number }, b: { position: number }) => a.position - b.position;

export function toRolloutView(row: RolloutRow, now = new Date()): RolloutView {
  return {
    ...summaryOf(row, now),
    clusters: [...row.clusters].sort(byPosition).map((cluster) => {
      const before = z.object({ install: ZStoredInstallStateSchema }).safeParse(cluster.before);
      const baseline = ZBaselineSchema.safeParse(cluster.baseline);
      const progress = ZStoredProgressSchema.safeParse(cluster.nodes);
      return {
        clusterId: cluster.clusterId,
        position: cluster.position,
        wave: cluster.wave,
        status: cluster.status as RolloutClusterStatus,
        daemonSet: { namespace: cluster.namespace, name: cluster.daemonSetName },
        previous: before.success
          ? { profileId: before.data.install.profileId, revision: before.data.install.profileRevision }
          : null,
        reason: cluster.reason,
        lastError: cluster.lastError,
        startedAt: cluster.startedAt,
        changedAt: cluster.changedAt,
        gateDeadline: cluster.gateDeadline,
        finishedAt: cluster.finishedAt,
        baseline: baseline.success ? baseline.data : null,
        progress: progress.success ? progress.data : null,
      };
    }),
  };
}

const INCLUDE = { clusters: true, profile: { select: { name: true } } } as const;

// ---------------------------------------------------------------------------
// Reading

export async function getRollout(options: { db: Db; id: string; now?: Date }): Promise<RolloutView> {
  const row = z.uuid().safeParse(options.id).success
    ? await options.db.rollout.findUnique({ where: { id: options.id }, include: INCLUDE })
    : null;
  if (!row) throw new AppError("NOT_FOUND", { userMessage: `No rollout "${options.id}".` });
  return toRolloutView(row, options.now);
}

/** Newest first. */
export async function listRollouts(options: {
  db: Db;
  limit?: number;
  clusterId?: string | undefined;
  now?: Date;
}): Promise<RolloutSummaryView[]> {
  const rows = await options.db.rollout.findMany({
    where: options.clusterId ? { clusters: { some: { clusterId: options.clusterId } } } : {},
    include: INCLUDE,
    orderBy: [{ createdAt: "desc" }, { id: "asc" }],
    take: options.limit ?? 100,
  });
  const now = options.now ?? new Date();
  return rows.map((row) => ({
    ...summaryOf(row, now),
    clusters: [...row.clusters]
      .sort(byPosition)
      .map((c) => ({ clusterId: c.clusterId, wave: c.wave, status: c.status as RolloutClusterStatus })),
  }));
}

// ---------------------------------------------------------------------------
// Starting

/** Serializes starts, so two overlapping rollouts cannot both pass the check. */
const START_LOCK_KEY = 0x726f6c6c; // "roll"

/**
 * How long a start waits for a pooled connection, and may then hold it. The
 * caller is an operator's request: while the leader's runner, the inventory
 * and the ingest share the pool, a wait of a few seconds is an answer a little
 * later, where Prisma's default (2 s) answered 500 and the operator would
 * start again into the same queue. The transaction itself is four short
 * statements, so its time-out only guards against a stuck connection.
 */
const START_TRANSACTION = { maxWait: 10_000, timeout: 10_000 } as const;

interface StartTarget {
  name: string;
  revision: number | null;
  latest: number | null;
}

interface StartCluster {
  clusterId: string;
  known: boolean;
  namespace: string | null;
  name: string | null;
  connected: boolean;
  debugLevel: boolean;
}

/**
 * Records a rollout of a profile revision to clusters, after checking that the
 * revision exists and that every cluster has a sensor Tapfleet manages, a
 * connection, no debug level pending and no other rollout under way.
 *
 * However many clusters it names, a start costs the same few statements: one
 * read of the profile and its revision, one of every cluster with its install,
 * connection and debug level, then a transaction of the lock, the check of
 * rollouts under way and one INSERT each for the rollout and its clusters. The
 * answer is built from what was written, not read back.
 */
export async function startRollout(options: {
  db: Db;
  bus: LiveBus;
  input: StartRollout;
  actor: AuthenticatedActor;
  now?: Date;
}): Promise<RolloutView> {
  const { db, input } = options;
  const now = options.now ?? new Date();
  const [target] = await db.$queryRaw<StartTarget[]>`
    SELECT p."name",
      (SELECT r."number" FROM "ProfileRevision" r
        WHERE r."profileId" = p."id" AND r."number" = ${input.revision}) AS "revision",
      (SELECT max(r."number") FROM "ProfileRevision" r WHERE r."profileId" = p."id") AS "latest"
    FROM "Profile" p WHERE p."id" = ${input.profileId}::uuid`;
  if (!target)
    throw new AppError("INVALID_INPUT", {
      field: "profileId",
      userMessage: `no profile "${input.profileId}"`,
    });
  if (target.revision === null)
    throw new AppError("INVALID_INPUT", {
      field: "revision",
      userMessage: `profile "${target.name}" has no revision r${input.revision} (its latest is r${target.latest ?? 0})`,
    });

  const clusters = await db.$queryRaw<StartCluster[]>`
    SELECT t."id" AS "clusterId", c."id" IS NOT NULL AS "known", i."namespace", i."name",
      coalesce(cc."enabled", false) AS "connected",
      EXISTS (SELECT 1 FROM "DebugLevel" d WHERE d."clusterId" = t."id"
        AND d."status" = ANY(${[...PENDING_DEBUG_LEVEL_STATUSES]}::text[])) AS "debugLevel"
    FROM unnest(${input.clusterIds}::text[]) WITH ORDINALITY AS t("id", "ord")
    LEFT JOIN "Cluster" c ON c."id" = t."id"
    LEFT JOIN "SensorInstall" i ON i."clusterId" = t."id"
    LEFT JOIN "ClusterConnection" cc ON cc."clusterId" = t."id"
    ORDER BY t."ord"`;
  const unknown = clusters.filter((cluster) => !cluster.known).map((cluster) => cluster.clusterId);
  if (unknown.length > 0)
    throw new AppError("INVALID_INPUT", {
      field: "clusterIds",
      userMessage: `unknown cluster${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`,
    });
  const unmanaged = clusters.filter((cluster) => cluster.name === null).map((cluster) => cluster.clusterId);
  if (unmanaged.length > 0)
    throw new AppError("INVALID_INPUT", {
      field: "clusterIds",
      userMessage: `no sensor managed by Tapfleet in ${unmanaged.join(", ")}: install or adopt it first`,
    });
  const unconnected = clusters.filter((cluster) => !cluster.connected).map((cluster) => cluster.clusterId);
  if (unconnected.length > 0)
    throw new AppError("CONFLICT", {
      userMessage: `no enabled Kubernetes connection for ${unconnected.join(", ")}: connect ${unconnected.length > 1 ? "them" : "it"} first`,
    });
  const debugLevels = clusters.filter((cluster) => cluster.debugLevel).map((cluster) => cluster.clusterId);
  if (debugLevels.length > 0)
    throw new AppError("CONFLICT", {
      userMessage: `a debug level is set on ${debugLevels.join(", ")}: revert it before rolling out`,
    });

  const installs = new Map(clusters.map((cluster) => [cluster.clusterId, cluster]));
  const plan = planRolloutWaves({ clusterIds: input.clusterIds, strategy: input.strategy });
  const id = randomUUID();
  const row = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${START_LOCK_KEY})`;
    const busy = await tx.$queryRaw<Array<{ clusterId: string; rolloutId: string; status: string }>>`
      SELECT rc."clusterId", rc."rolloutId"::text AS "rolloutId", r."status"
      FROM "RolloutCluster" rc JOIN "Rollout" r ON r."id" = rc."rolloutId"
      WHERE rc."clusterId" = ANY(${input.clusterIds}::text[])
        AND r."status" = ANY(${[...ACTIVE_ROLLOUT_STATUSES]}::text[])
      ORDER BY rc."clusterId"`;
    if (busy.length > 0)
      throw new AppError("CONFLICT", {
        userMessage: `${busy.map((b) => `${b.clusterId} is in rollout ${b.rolloutId} (${b.status})`).join("; ")}: wait for it to end, or abort it`,
      });
    const rollout = await tx.rollout.create({
      data: {
        id,
        profileId: input.profileId,
        revision: input.revision,
        image: input.image ?? null,
        strategy: input.strategy,
        status: "pending",
        startedByType: options.actor.type,
        startedById: options.actor.id,
        startedByName: options.actor.name,
        createdAt: now,
        updatedAt: now,
      },
    });
    const rolloutClusters = await tx.rolloutCluster.createManyAndReturn({
      data: plan.map((entry) => {
        const install = installs.get(entry.clusterId)!;
        return {
          rolloutId: id,
          clusterId: entry.clusterId,
          position: entry.position,
          wave: entry.wave,
          status: "pending",
          namespace: install.namespace!,
          daemonSetName: install.name!,
          updatedAt: now,
        };
      }),
    });
    return { ...rollout, clusters: rolloutClusters, profile: { name: target.name } };
  }, START_TRANSACTION);
  await publishTopic(options.bus, ROLLOUTS_TOPIC, { rolloutId: id, status: "pending" });
  return toRolloutView(row, now);
}

// ---------------------------------------------------------------------------
// Pause, resume, abort

async function transition(options: {
  db: Db;
  bus: LiveBus;
  id: string;
  from: readonly RolloutStatus[];
  to: RolloutStatus;
  verb: string;
  reason: (row: { reason: string | null }) => string | null;
  now?: Date;
}): Promise<RolloutView> {
  const { db, id } = options;
  const current = await getRollout({ db, id });
  if (!options.from.includes(current.status))
    throw new AppError("CONFLICT", {
      userMessage: `The rollout is ${current.status}: only a ${options.from.join(" or ")} rollout can be ${options.verb}.`,
    });
  const now = options.now ?? new Date();
  // Guarded by the status as read: a step of the leader in between wins, and the caller may try again.
  const updated = await db.rollout.updateMany({
    where: { id, status: current.status },
    data: { status: options.to, reason: options.reason(current), updatedAt: now },
  });
  if (updated.count === 0)
    throw new AppError("CONFLICT", { userMessage: "The rollout changed meanwhile; look again and retry." });
  await publishTopic(options.bus, ROLLOUTS_TOPIC, { rolloutId: id, status: options.to });
  return getRollout({ db, id });
}

/** Starts no further cluster; clusters under way finish their gate. */
export function pauseRollout(options: {
  db: Db;
  bus: LiveBus;
  id: string;
  actor: AuthenticatedActor;
  now?: Date;
}) {
  return transition({
    ...options,
    from: ["pending", "running"],
    to: "paused",
    verb: "paused",
    reason: () => `paused by ${options.actor.name}`,
  });
}

export function resumeRollout(options: { db: Db; bus: LiveBus; id: string; now?: Date }) {
  return transition({ ...options, from: ["paused"], to: "running", verb: "resumed", reason: () => null });
}

/** Rolls back the clusters under way and starts no other; clusters that passed keep the change. */
export function abortRollout(options: {
  db: Db;
  bus: LiveBus;
  id: string;
  actor: AuthenticatedActor;
  now?: Date;
}) {
  return transition({
    ...options,
    from: ["pending", "running", "paused"],
    to: "aborting",
    verb: "aborted",
    reason: () => `aborted by ${options.actor.name}`,
  });
}

// ---------------------------------------------------------------------------
// For drift: what a rollout under way has put (or is putting) on a DaemonSet

/**
 * The DaemonSets a rollout is changing now, with the settings and image it
 * applies: while a cluster is applying or gating, that is what the DaemonSet
 * should carry (not yet the install's record, which changes when the gate
 * passes). A cluster rolling back is left out: it goes back to the record.
 */
export async function listRolloutChanges(options: {
  db: Db;
  clusterId?: string;
}): Promise<Array<{ clusterId: string; namespace: string; name: string; settings: unknown; image: string }>> {
  const rows = await options.db.rolloutCluster.findMany({
    where: {
      status: { in: ["applying", "gating"] },
      ...(options.clusterId === undefined ? {} : { clusterId: options.clusterId }),
    },
    select: { clusterId: true, namespace: true, daemonSetName: true, target: true },
  });
  return rows.flatMap((row) => {
    const target = z.object({ install: ZStoredInstallStateSchema }).safeParse(row.target);
    if (!target.success) return [];
    return [
      {
        clusterId: row.clusterId,
        namespace: row.namespace,
        name: row.daemonSetName,
        settings: target.data.install.settings,
        image: target.data.install.image,
      },
    ];
  });
}
