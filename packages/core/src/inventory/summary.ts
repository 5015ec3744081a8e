// Coverage of a whole inventory (every node × every sensor DaemonSet of every
// cluster) and its counts per DaemonSet, per cluster and for the fleet.

import {
  COVERAGE_STATES,
  nodeCoverage,
  selectDaemonPod,
  type CoverageState,
  type NodeCoverage,
} from "./coverage.ts";
import { inventoryObjectKey, type InventoryState } from "./inventory.ts";
import type { AgentReportSeen } from "./types.ts";

export interface NodeCoverageEntry {
  clusterId: string;
  daemonSet: { namespace: string; name: string };
  nodeName: string;
  coverage: NodeCoverage;
}

const entryKey = (e: {
  clusterId: string;
  daemonSet: { namespace: string; name: string };
  nodeName: string;
}) => `${e.clusterId}\u0000${inventoryObjectKey(e.daemonSet)}\u0000${e.nodeName}`;

const reportKey = (r: { clusterId: string; nodeName: string; podName: string }) =>
  `${r.clusterId}\u0000${r.nodeName}\u0000${r.podName}`;

/**
 * Judges every node of every cluster against every DaemonSet of that cluster.
 * Reports join pods by cluster, node and pod name; `previous` (the last
 * verdicts) keeps each state's `since`. Sorted by cluster, DaemonSet, node.
 */
export function computeInventoryCoverage(options: {
  inventory: InventoryState;
  reports: Iterable<AgentReportSeen>;
  previous?: Iterable<NodeCoverageEntry>;
  now: Date;
}): NodeCoverageEntry[] {
  const reports = new Map<string, AgentReportSeen>();
  for (const report of options.reports) {
    const key = reportKey(report);
    const known = reports.get(key);
    if (!known || Date.parse(report.receivedAt) > Date.parse(known.receivedAt)) reports.set(key, report);
  }
  const previous = new Map<string, NodeCoverage>();
  for (const entry of options.previous ?? []) previous.set(entryKey(entry), entry.coverage);

  const entries: NodeCoverageEntry[] = [];
  for (const clusterId of Object.keys(options.inventory.clusters).sort()) {
    const cluster = options.inventory.clusters[clusterId]!;
    for (const dsKey of Object.keys(cluster.daemonSets).sort()) {
      const daemonSet = cluster.daemonSets[dsKey]!;
      for (const nodeName of Object.keys(cluster.nodes).sort()) {
        const node = cluster.nodes[nodeName]!;
        const pod = selectDaemonPod({ daemonSet, pods: Object.values(cluster.podsByNode[nodeName] ?? {}) });
        const identity = {
          clusterId,
          daemonSet: { namespace: daemonSet.namespace, name: daemonSet.name },
          nodeName,
        };
        const coverage = nodeCoverage({
          node,
          daemonSet,
          pod,
          lastReport: pod
            ? (reports.get(reportKey({ clusterId, nodeName, podName: pod.name })) ?? null)
            : null,
          clusterReachable: cluster.reachable,
          ...(cluster.reachable || cluster.reachableChangedAt === null
            ? {}
            : { clusterUnreachableSince: cluster.reachableChangedAt }),
          previous: previous.get(entryKey(identity)) ?? null,
          now: options.now,
        });
        entries.push({ ...identity, coverage });
      }
    }
  }
  return entries;
}

export interface CoverageSummary {
  /** Node × DaemonSet pairs in each state (every state present, zero included). */
  counts: Record<CoverageState, number>;
  /** Pairs whose node should run the DaemonSet's pod (everything but `excluded` and not-targeted not-ready nodes). */
  targeted: number;
  covered: number;
  /** covered ÷ targeted × 100, unrounded; null when nothing is targeted. */
  coveragePercent: number | null;
  /** True when part of the figures comes from an unreachable cluster. */
  stale: boolean;
}

export interface FleetCoverageSummary {
  fleet: CoverageSummary;
  /** By cluster id. */
  clusters: Record<string, CoverageSummary>;
  /** By cluster id, then DaemonSet `namespace/name`. */
  daemonSets: Record<string, Record<string, CoverageSummary>>;
}

function emptySummary(): CoverageSummary {
  const counts = Object.fromEntries(COVERAGE_STATES.map((state) => [state, 0])) as Record<
    CoverageState,
    number
  >;
  return { counts, targeted: 0, covered: 0, coveragePercent: null, stale: false };
}

function add(summary: CoverageSummary, coverage: NodeCoverage): void {
  summary.counts[coverage.state]++;
  if (coverage.shouldRun) summary.targeted++;
  if (coverage.state === "covered" && coverage.shouldRun) summary.covered++;
  if (coverage.stale) summary.stale = true;
  summary.coveragePercent = summary.targeted === 0 ? null : (summary.covered / summary.targeted) * 100;
}

/**
 * Counts by state and coverage % = covered ÷ nodes that should run a sensor,
 * per DaemonSet, per cluster and for the fleet. Nodes not targeted do not count;
 * nothing targeted gives null, never 100 % or NaN. Nodes of an unreachable
 * cluster count as targeted but not covered: their coverage cannot be confirmed.
 * `clusterIds` lists clusters to report even when they have no entries.
 */
export function summarizeCoverage(options: {
  nodes: Iterable<NodeCoverageEntry>;
  clusterIds?: Iterable<string>;
}): FleetCoverageSummary {
  const result: FleetCoverageSummary = { fleet: emptySummary(), clusters: {}, daemonSets: {} };
  for (const clusterId of options.clusterIds ?? []) {
    result.clusters[clusterId] ??= emptySummary();
    result.daemonSets[clusterId] ??= {};
  }
  for (const entry of options.nodes) {
    const cluster = (result.clusters[entry.clusterId] ??= emptySummary());
    const daemonSets = (result.daemonSets[entry.clusterId] ??= {});
    const daemonSet = (daemonSets[inventoryObjectKey(entry.daemonSet)] ??= emptySummary());
    for (const summary of [result.fleet, cluster, daemonSet]) add(summary, entry.coverage);
  }
  return result;
}
