// One watched cluster at run time, on the leader: the cluster watch's objects
// → the inventory reducer → coverage (joined with the agents' latest reports)
// → changed rows persisted in one batch → the live topic. Recomputed on change
// (debounced), and when a verdict's `changesAt` comes (a sensor turning silent):
// only the nodes a change touched are judged again, unless the change is one
// every node depends on.

import { isDeepStrictEqual } from "node:util";
import { LIVE_BUS_MAX_PAYLOAD, type Db, type LiveBus, type PgPool } from "@tapfleet/db";
import {
  loadKubeConfig,
  startClusterWatch,
  systemClock,
  type Clock,
  type ClusterStatus,
  type ClusterWatch,
  type ClusterWatchOptions,
} from "@tapfleet/kube";
export type { ClusterStatus, ClusterWatchOptions } from "@tapfleet/kube";

import { publishTopicMany } from "../../live/topics.ts";
import type { NodeCoverage } from "../coverage.ts";
import { applyInventoryEvent, EMPTY_INVENTORY, type InventoryState } from "../inventory.ts";
import {
  computeInventoryCoverage,
  summarizeCoverage,
  type FleetCoverageSummary,
  type NodeCoverageEntry,
} from "../summary.ts";
import type { AgentReportSeen } from "../types.ts";
import {
  daemonSetStatusesFromKube,
  inventoryDaemonSetFromKube,
  inventoryInputsFromKube,
} from "./kube-mapper.ts";
import { createRecomputeScheduler } from "./recompute-scheduler.ts";
import {
  coverageRowKey,
  readCoverageRows,
  readDaemonSetStatuses,
  writeInventoryBatch,
  type ClusterRuntimeStatus,
  type CoverageRow,
} from "./store.ts";
import { INVENTORY_TOPIC, MAX_LIVE_NODE_CHANGES, type InventoryLiveMessage } from "./topic.ts";

/** A cluster Tapfleet watches: its id and the stored kubeconfig (one context). */
export interface ClusterConnection {
  clusterId: string;
  /** The kubeconfig, decrypted; never logged. */
  kubeconfig: string;
  /** The context to use; the kubeconfig's current one when empty. */
  context: string;
}

/** Where the leader learns which clusters to watch. */
export interface ClusterConnectionSource {
  listClusterConnections(): Promise<ClusterConnection[]>;
}

/** A report summary as the live stats topic carries it (the fields the join reads). */
export interface ReportSeen {
  sensorId: string;
  clusterId: string;
  nodeName: string;
  receivedAt: string;
  reportIntervalSeconds: number | null;
}

export interface ClusterInventoryRuntime {
  readonly clusterId: string;
  /** The watch's reachability now. */
  readonly status: ClusterStatus;
  /** The cluster watch itself, for other leader controllers to read and hear (not to stop). */
  readonly watch: Pick<ClusterWatch, "synced" | "status" | "daemonSets" | "pods" | "subscribe">;
  /** An agent of this cluster reported (from the live stats topic). */
  reportSeen(report: ReportSeen): void;
  /** Resolves after the next recomputation has been persisted (tests, shutdown). */
  flushed(): Promise<void>;
  stop(): Promise<void>;
}

interface SensorSeen {
  id: string;
  podName: string;
  receivedAt: string;
  reportIntervalSeconds: number | null;
}

function toNodeCoverage(row: CoverageRow): NodeCoverage {
  return {
    state: row.state,
    reason: row.reason,
    since: row.since,
    shouldRun: row.shouldRun,
    changesAt: row.changesAt,
    stale: row.stale,
    ...(row.details ? { details: row.details } : {}),
  };
}

function toEntry(row: CoverageRow): NodeCoverageEntry {
  return {
    clusterId: row.clusterId,
    daemonSet: { namespace: row.daemonSetNamespace, name: row.daemonSetName },
    nodeName: row.nodeName,
    coverage: toNodeCoverage(row),
  };
}

function liveNode(row: CoverageRow): InventoryLiveMessage {
  return {
    type: "node",
    node: {
      clusterId: row.clusterId,
      nodeName: row.nodeName,
      daemonSet: { namespace: row.daemonSetNamespace, name: row.daemonSetName },
      state: row.state,
      reason: row.reason,
      since: row.since,
      shouldRun: row.shouldRun,
      changesAt: row.changesAt,
      stale: row.stale,
      podName: row.podName,
      sensorId: row.sensorId,
      details: (row.details as Record<string, unknown> | null) ?? null,
    },
  };
}

/** Whether the live bus carries the message (alone in a notification; larger ones it skips). */
function fitsLiveBus(message: InventoryLiveMessage): boolean {
  return (
    Buffer.byteLength(JSON.stringify({ topic: INVENTORY_TOPIC.name, batch: [message] })) <=
    LIVE_BUS_MAX_PAYLOAD
  );
}

/** Loads the cluster's agents as last seen: node, pod, and the time and interval of the latest report. */
async function loadSensors(db: Db, clusterId: string): Promise<Map<string, SensorSeen>> {
  const rows = await db.$queryRaw<
    {
      id: string;
      nodeName: string;
      podName: string;
      receivedAt: string | null;
      interval: string | null;
      lastSeenAt: Date;
    }[]
  >`SELECT "id", "nodeName", "podName", "lastSeenAt", "lastSummary"->>'receivedAt' AS "receivedAt",
      "lastSummary"->>'reportIntervalSeconds' AS "interval"
    FROM "Sensor" WHERE "clusterId" = ${clusterId}`;
  const sensors = new Map<string, SensorSeen>();
  for (const row of rows) {
    // A report, not an action poll, tells whether a sensor reports: polls also move lastSeenAt.
    if (row.receivedAt === null) continue;
    const interval = row.interval === null ? null : Number(row.interval);
    sensors.set(row.nodeName, {
      id: row.id,
      podName: row.podName,
      receivedAt: row.receivedAt,
      reportIntervalSeconds: interval !== null && Number.isFinite(interval) ? interval : null,
    });
  }
  return sensors;
}

/**
 * Starts watching one cluster and keeping its persisted inventory current.
 * Starts from the rows persisted last (so each state keeps its `since`); the
 * rows stay as they are (stale) until the watch has listed everything.
 */
export async function startClusterInventory(options: {
  db: Db;
  /** The connections the batches are written through (see writeInventoryBatch). */
  pool: PgPool;
  bus: LiveBus;
  connection: ClusterConnection;
  clock?: Clock;
  /** Overrides for the cluster watch (tests shorten its probes). */
  watch?: Partial<Omit<ClusterWatchOptions, "kubeConfig" | "clusterId" | "clock">>;
  debounceMs?: number;
  minIntervalMs?: number;
  /** The watch's status changed (the seam for the cluster connection's stored status). */
  onStatus?: (status: ClusterStatus) => void;
  onError: (error: unknown) => void;
}): Promise<ClusterInventoryRuntime> {
  const { db, bus, connection } = options;
  const { clusterId } = connection;
  const clock = options.clock ?? systemClock;
  const iso = (ms: number) => new Date(ms).toISOString();

  const persisted = new Map<string, CoverageRow>();
  for (const row of await readCoverageRows({ db, clusterId })) persisted.set(coverageRowKey(row), row);
  /** The current verdicts by row key (node × DaemonSet); the persisted ones until the watch has listed. */
  const entries = new Map<string, NodeCoverageEntry>(
    [...persisted].map(([key, row]) => [key, toEntry(row)] as const),
  );
  let daemonSetStatus = await readDaemonSetStatuses({ db, clusterId });
  let sensors = await loadSensors(db, clusterId);
  let reloadSensors = false;
  let podsByNode = new Map<string, Set<string>>();
  let lastClusterJson = "";
  let syncedAt: string | null = null;
  // What the next run judges: the nodes whose objects or reports changed (and those whose
  // `changesAt` came), or every node when something they all depend on changed (a sensor
  // DaemonSet's spec, the cluster's reachability, the agents). A 5,000-node cluster costs a
  // full judgement only then, not on every watch event.
  let judgeAll = true;
  const dirtyNodes = new Set<string>();
  let judgedReachability = "";
  let lastSummaries: FleetCoverageSummary | undefined;

  const kubeConfig = loadKubeConfig(connection.kubeconfig);
  if (connection.context) kubeConfig.setCurrentContext(connection.context);
  const watch: ClusterWatch = startClusterWatch({ ...options.watch, kubeConfig, clusterId, clock });

  const waiters: (() => void)[] = [];

  const rowOf = (entry: NodeCoverageEntry): CoverageRow => ({
    clusterId,
    nodeName: entry.nodeName,
    daemonSetNamespace: entry.daemonSet.namespace,
    daemonSetName: entry.daemonSet.name,
    state: entry.coverage.state,
    reason: entry.coverage.reason,
    since: entry.coverage.since,
    shouldRun: entry.coverage.shouldRun,
    changesAt: entry.coverage.changesAt,
    podName: entry.coverage.details?.podName ?? null,
    sensorId: sensors.get(entry.nodeName)?.id ?? null,
    stale: entry.coverage.stale,
    details: entry.coverage.details ?? null,
  });
  const entryKey = (entry: NodeCoverageEntry): string =>
    coverageRowKey({
      clusterId,
      nodeName: entry.nodeName,
      daemonSetNamespace: entry.daemonSet.namespace,
      daemonSetName: entry.daemonSet.name,
    });

  async function recompute(): Promise<void> {
    const now = clock.now();
    if (reloadSensors) {
      reloadSensors = false;
      sensors = await loadSensors(db, clusterId);
      // A new agent or pod may change any node's sensor: judge them all.
      judgeAll = true;
    }
    const status = watch.status;
    const synced = watch.synced || syncedAt !== null;
    if (watch.synced && syncedAt === null) syncedAt = iso(now);

    let rows: CoverageRow[] | undefined;
    let current: NodeCoverageEntry[] | undefined;
    let nodeCount: number;
    if (synced) {
      const kubeNodes = watch.nodes();
      const kubeDaemonSets = watch.daemonSets();
      const kubePods = watch.pods();
      nodeCount = kubeNodes.length;
      daemonSetStatus = daemonSetStatusesFromKube(kubeDaemonSets);
      podsByNode = new Map();
      for (const pod of kubePods) {
        const node = pod.nodeName ?? "";
        if (!podsByNode.has(node)) podsByNode.set(node, new Set());
        podsByNode.get(node)!.add(pod.name);
      }
      const reachability = status.state === "unreachable" ? `unreachable since ${status.since}` : "reachable";
      let judged: Set<string> | undefined;
      if (!judgeAll && reachability === judgedReachability) {
        judged = new Set(dirtyNodes);
        for (const entry of entries.values())
          if (entry.coverage.changesAt !== null && Date.parse(entry.coverage.changesAt) <= now)
            judged.add(entry.nodeName);
      }
      judgeAll = false;
      judgedReachability = reachability;
      dirtyNodes.clear();
      const inScope = (nodeName: string | undefined): boolean => !judged || judged.has(nodeName ?? "");

      const inputs = inventoryInputsFromKube({
        nodes: judged ? kubeNodes.filter((n) => inScope(n.name)) : kubeNodes,
        daemonSets: kubeDaemonSets,
        pods: judged ? kubePods.filter((p) => inScope(p.nodeName)) : kubePods,
      });
      // The watch keeps the current objects; the reducer turns them into the inventory in one step.
      let inventory: InventoryState = applyInventoryEvent(EMPTY_INVENTORY, {
        type: "cluster-synced",
        clusterId,
        at: syncedAt ?? iso(now),
        ...inputs,
      });
      if (status.state === "unreachable")
        inventory = applyInventoryEvent(inventory, {
          type: "cluster-unreachable",
          clusterId,
          at: iso(status.since),
          reason: status.lastError ?? "the cluster's API does not answer",
        });
      const reports: AgentReportSeen[] = [...sensors.entries()]
        .filter(([nodeName]) => inScope(nodeName))
        .map(([nodeName, sensor]) => ({
          clusterId,
          nodeName,
          podName: sensor.podName,
          receivedAt: sensor.receivedAt,
          reportIntervalSeconds: sensor.reportIntervalSeconds,
        }));
      const fresh = computeInventoryCoverage({
        inventory,
        reports,
        previous: [...entries.values()].filter((e) => inScope(e.nodeName)),
        now: new Date(now),
      });
      // The judged nodes' verdicts replace theirs; a node gone (or no longer judged by a DaemonSet) loses its own.
      for (const [key, entry] of entries) if (inScope(entry.nodeName)) entries.delete(key);
      for (const entry of fresh) entries.set(entryKey(entry), entry);
      rows = fresh.map(rowOf);
    } else {
      // Not listed yet: keep the persisted verdicts, stale.
      current = [...entries.values()].map((e) => ({ ...e, coverage: { ...e.coverage, stale: true } }));
      nodeCount = new Set(current.map((e) => e.nodeName)).size;
    }

    const upserts: CoverageRow[] = [];
    const deletes: CoverageRow[] = [];
    if (rows) {
      for (const row of rows) {
        const before = persisted.get(coverageRowKey(row));
        if (!before || JSON.stringify(before) !== JSON.stringify(row)) upserts.push(row);
      }
      for (const [key, row] of persisted) if (!entries.has(key)) deletes.push(row);
    }
    // The counts follow the rows: when no row changed they are those of the last run (a run
    // for one node of 5,000 need not count the other 4,999 again).
    if (!rows || upserts.length > 0 || deletes.length > 0 || !lastSummaries)
      lastSummaries = summarizeCoverage({ nodes: current ?? entries.values(), clusterIds: [clusterId] });
    const summaries = lastSummaries;
    const summary = summaries.clusters[clusterId]!;
    if (!synced) summary.stale = true;
    const runtimeStatus: ClusterRuntimeStatus = {
      reachability: status.state,
      reachableSince: iso(status.since),
      serverVersion: status.serverVersion ?? null,
      lastError: status.lastError ?? null,
      lastErrorAt: status.lastErrorAt === undefined ? null : iso(status.lastErrorAt),
      nodeCount,
      syncedAt,
      stale: !synced || status.state === "unreachable",
    };
    const clusterJson = JSON.stringify({
      runtimeStatus,
      summaries: summaries.daemonSets,
      summary,
      daemonSetStatus,
    });
    if (upserts.length > 0 || deletes.length > 0 || clusterJson !== lastClusterJson) {
      try {
        await writeInventoryBatch({
          pool: options.pool,
          clusterId,
          upserts,
          deletes,
          status: runtimeStatus,
          summary,
          daemonSets: summaries.daemonSets[clusterId] ?? {},
          daemonSetStatus,
          now: new Date(now),
        });
      } catch (error) {
        // The verdicts are judged but not persisted: the retry compares every row again.
        judgeAll = true;
        throw error;
      }
      for (const row of deletes) persisted.delete(coverageRowKey(row));
      for (const row of upserts) persisted.set(coverageRowKey(row), row);
      let messages: InventoryLiveMessage[] = [
        ...upserts.map(liveNode),
        ...deletes.map((row): InventoryLiveMessage => ({
          type: "node-removed",
          clusterId,
          nodeName: row.nodeName,
          daemonSet: { namespace: row.daemonSetNamespace, name: row.daemonSetName },
        })),
      ];
      // Many changes, or one the bus cannot carry (a crash's termination message, up to 4 KiB,
      // is in both the reason and the details; the bus would skip it, and open pages would
      // never hear of the change): the clients read the cluster's list again instead.
      if (messages.length > MAX_LIVE_NODE_CHANGES || !messages.every(fitsLiveBus))
        messages = [{ type: "resync", clusterId }];
      if (clusterJson !== lastClusterJson)
        messages.push({ type: "cluster", clusterId, status: runtimeStatus, summary });
      lastClusterJson = clusterJson;
      if (messages.length > 0)
        await publishTopicMany(bus, INVENTORY_TOPIC, messages).catch((error: unknown) =>
          options.onError(new Error(`publishing the inventory of cluster ${clusterId}`, { cause: error })),
        );
    }
    let next = Infinity;
    for (const entry of entries.values())
      if (entry.coverage.changesAt !== null) next = Math.min(next, Date.parse(entry.coverage.changesAt));
    scheduler.wakeAt(next === Infinity ? null : next);
  }

  const scheduler = createRecomputeScheduler({
    clock,
    debounceMs: options.debounceMs,
    minIntervalMs: options.minIntervalMs,
    run: async () => {
      const done = waiters.splice(0);
      try {
        await recompute();
      } finally {
        for (const resolve of done) resolve();
      }
    },
    onError: (error) =>
      options.onError(new Error(`recomputing the inventory of cluster ${clusterId}`, { cause: error })),
  });

  const unsubscribe = watch.subscribe((event) => {
    if (event.type === "status") options.onStatus?.(event.status);
    else if ("resource" in event && "object" in event) {
      if (event.resource === "node") dirtyNodes.add(event.object.name);
      else if (event.resource === "pod") {
        dirtyNodes.add(event.object.nodeName ?? "");
        if (event.type === "updated") dirtyNodes.add(event.previous.nodeName ?? "");
      } else if (
        event.type !== "updated" ||
        !isDeepStrictEqual(
          inventoryDaemonSetFromKube(event.previous),
          inventoryDaemonSetFromKube(event.object),
        )
      )
        // A sensor DaemonSet came, went or changed what it asks of nodes; its status alone changes no verdict.
        judgeAll = true;
    }
    scheduler.markDirty();
  });
  // The persisted rows turn stale at once if the cluster cannot be listed.
  scheduler.markDirty();

  return {
    clusterId,
    get status() {
      return watch.status;
    },
    watch,
    reportSeen(report) {
      const known = sensors.get(report.nodeName);
      if (!known || known.id !== report.sensorId || !podsByNode.get(report.nodeName)?.has(known.podName)) {
        // A new agent, or a new pod on the node: its pod name is in the Sensor row, not in the summary.
        reloadSensors = true;
      } else {
        known.receivedAt = report.receivedAt;
        known.reportIntervalSeconds = report.reportIntervalSeconds;
        dirtyNodes.add(report.nodeName);
      }
      scheduler.markDirty();
    },
    flushed() {
      return new Promise((resolve) => {
        waiters.push(resolve);
        scheduler.markDirty();
      });
    },
    async stop() {
      unsubscribe();
      scheduler.stop();
      for (const resolve of waiters.splice(0)) resolve();
      await watch.stop();
    },
  };
}
