// The live inventory topic: what the leader publishes after each persisted
// batch, and the shapes the API declares for the same data. One definition for
// the bus, the API outputs and the dashboard's types.

import { z } from "zod";
import { defineTopic } from "../../live/topics.ts";
import { COVERAGE_STATES } from "../coverage.ts";

export const ZCoverageStateSchema = z.enum(COVERAGE_STATES);

export const ZCoverageSummarySchema = z.object({
  counts: z.record(ZCoverageStateSchema, z.number()),
  targeted: z.number(),
  covered: z.number(),
  /** covered ÷ targeted × 100; null when no node should run a sensor. */
  coveragePercent: z.number().nullable(),
  /** Part of the figures comes from a cluster that is unreachable or not yet resynced. */
  stale: z.boolean(),
});

export const ZClusterRuntimeStatusSchema = z.object({
  reachability: z.enum(["connecting", "reachable", "unreachable"]),
  reachableSince: z.string(),
  serverVersion: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  nodeCount: z.number(),
  syncedAt: z.string().nullable(),
  stale: z.boolean(),
});

/**
 * A sensor DaemonSet's status as `kubectl get ds` shows it: the controller's
 * counts, the spec's generation and the one the controller has acted on.
 */
export const ZDaemonSetStatusSchema = z.object({
  desired: z.number(),
  current: z.number(),
  ready: z.number(),
  upToDate: z.number(),
  available: z.number(),
  unavailable: z.number(),
  misscheduled: z.number(),
  generation: z.number(),
  /** null until the controller has observed the DaemonSet once. */
  observedGeneration: z.number().nullable(),
  /** The controller has not caught up with the spec, or not every pod runs the current template. */
  rollingOut: z.boolean(),
});
export type DaemonSetStatus = z.output<typeof ZDaemonSetStatusSchema>;

/** A node's coverage by one sensor DaemonSet, as persisted and sent live. */
export const ZInventoryNodeCoverageSchema = z.object({
  clusterId: z.string(),
  nodeName: z.string(),
  daemonSet: z.object({ namespace: z.string(), name: z.string() }),
  state: ZCoverageStateSchema,
  reason: z.string(),
  since: z.string(),
  shouldRun: z.boolean(),
  /** When time alone will change the state (a sensor turning silent); null otherwise. */
  changesAt: z.string().nullable(),
  stale: z.boolean(),
  podName: z.string().nullable(),
  sensorId: z.string().nullable(),
  /** The rule's details (restart count, last termination, last report…). */
  details: z.record(z.string(), z.unknown()).nullable(),
});

/** Above this many changes in one batch the leader sends `resync` instead: read the list again. */
export const MAX_LIVE_NODE_CHANGES = 200;

export const ZInventoryLiveMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("node"), node: ZInventoryNodeCoverageSchema }),
  z.object({
    type: z.literal("node-removed"),
    clusterId: z.string(),
    nodeName: z.string(),
    daemonSet: z.object({ namespace: z.string(), name: z.string() }),
  }),
  z.object({
    type: z.literal("cluster"),
    clusterId: z.string(),
    status: ZClusterRuntimeStatusSchema,
    summary: ZCoverageSummarySchema,
  }),
  /** Too much changed at once (a first sync, a relist): read the cluster's nodes again. */
  z.object({ type: z.literal("resync"), clusterId: z.string() }),
  /** The cluster is no longer watched (its connection or the cluster was removed): drop it. */
  z.object({ type: z.literal("cluster-removed"), clusterId: z.string() }),
]);
export type InventoryLiveMessage = z.output<typeof ZInventoryLiveMessageSchema>;

export const INVENTORY_TOPIC = defineTopic("inventory", ZInventoryLiveMessageSchema);
