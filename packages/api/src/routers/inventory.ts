import {
  INVENTORY_TOPIC,
  listClusterCoverage,
  listFleetNodes,
  listInventoryNodes,
  mergeCoverageSummaries,
  subscribeTopic,
  ZClusterRuntimeStatusSchema,
  ZCoverageSummarySchema,
  ZDaemonSetStatusSchema,
  ZInventoryLiveMessageSchema,
  ZInventoryNodeCoverageSchema,
  ZFleetNodesQuerySchema,
  ZInventoryNodesQuerySchema,
} from "@tapfleet/core";
import { z } from "zod";
import { ZClusterIdSchema } from "../schemas.ts";
import { router, viewerProcedure } from "../trpc.ts";

const ZInventoryNodeSchema = ZInventoryNodeCoverageSchema.omit({ sensorId: true }).extend({
  updatedAt: z.string(),
  /** The agent on the node as last seen, with its latest report summary (cumulative counters). */
  sensor: z
    .object({
      id: z.string(),
      agentVersion: z.string(),
      lastSeenAt: z.string(),
      lastSummary: z.unknown(),
    })
    .nullable(),
});

const ZClusterCoverageSchema = ZClusterRuntimeStatusSchema.extend({
  clusterId: z.string(),
  summary: ZCoverageSummarySchema,
  /** By DaemonSet `namespace/name`. */
  daemonSets: z.record(z.string(), ZCoverageSummarySchema),
  /** Each sensor DaemonSet's status as `kubectl get ds` shows it, by `namespace/name`. */
  daemonSetStatus: z.record(z.string(), ZDaemonSetStatusSchema),
  updatedAt: z.string(),
});

const ZInventoryNodesPageSchema = z.object({
  items: z.array(ZInventoryNodeSchema),
  /** Pass it as `cursor` (with the same filters and sort) for the next page; null on the last one. */
  nextCursor: z.string().nullable(),
});

export const inventoryRouter = router({
  /** A page of a watched cluster's nodes: one item per node and sensor DaemonSet, sorted, by keyset. */
  nodes: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/clusters/{id}/nodes",
        summary: "List a cluster's nodes with their sensor coverage",
        tags: ["inventory"],
        protect: true,
      },
    })
    .input(ZInventoryNodesQuerySchema.extend({ id: ZClusterIdSchema }))
    .output(ZInventoryNodesPageSchema)
    .query(({ ctx, input }) =>
      listInventoryNodes({
        db: ctx.db,
        clusterId: input.id,
        state: input.state,
        search: input.search || undefined,
        sort: input.sort,
        order: input.order,
        cursor: input.cursor,
        limit: input.limit,
      }),
    ),

  /** A page of the fleet's nodes, of every cluster or the ones named: the same items, filters and sorts. */
  fleetNodes: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/nodes",
        summary: "List the nodes of every cluster (or of some) with their sensor coverage",
        tags: ["inventory"],
        protect: true,
      },
    })
    .input(ZFleetNodesQuerySchema)
    .output(ZInventoryNodesPageSchema)
    .query(({ ctx, input }) =>
      listFleetNodes({
        db: ctx.db,
        clusterIds: input.cluster,
        state: input.state,
        search: input.search || undefined,
        sort: input.sort,
        order: input.order,
        cursor: input.cursor,
        limit: input.limit,
      }),
    ),

  /** Coverage % = covered ÷ nodes that should run a sensor, for the fleet, per cluster and per DaemonSet. */
  coverage: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/coverage",
        summary: "Sensor coverage of the fleet, per cluster and per DaemonSet",
        description:
          "With `clusterId`, one cluster's alone: `clusters` holds that cluster (or nothing while it is not connected and synced) and `fleet` adds up what `clusters` holds. An unknown cluster is 404.",
        tags: ["inventory"],
        protect: true,
      },
    })
    .input(z.object({ clusterId: ZClusterIdSchema.optional() }).optional())
    .output(z.object({ fleet: ZCoverageSummarySchema, clusters: z.array(ZClusterCoverageSchema) }))
    .query(async ({ ctx, input }) => {
      const clusters = await listClusterCoverage({
        db: ctx.db,
        ...(input?.clusterId === undefined ? {} : { clusterId: input.clusterId }),
      });
      return { fleet: mergeCoverageSummaries(clusters.map((c) => c.summary)), clusters };
    }),

  /** Node coverage changes and cluster summaries as the leader persists them, over SSE; optionally one cluster's. */
  live: viewerProcedure
    .input(z.object({ clusterId: ZClusterIdSchema.optional() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      for await (const message of subscribeTopic(ctx.bus, INVENTORY_TOPIC, signal)) {
        const clusterId = message.type === "node" ? message.node.clusterId : message.clusterId;
        if (input?.clusterId && clusterId !== input.clusterId) continue;
        yield ZInventoryLiveMessageSchema.parse(message);
      }
    }),
});
