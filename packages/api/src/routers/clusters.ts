import {
  createCluster,
  deleteCluster,
  getCluster,
  getDebugLevel,
  listClusters,
  listConnectionContexts,
  refreshSensorIngestKey,
  removeClusterConnection,
  rotateIngestKey,
  saveClusterConnection,
  setClusterConnectionEnabled,
  testClusterConnection,
  type ClusterConnectionView,
  type ClusterView,
} from "@tapfleet/core";
import { z } from "zod";
import {
  ZClusterConnectionInputSchema,
  ZClusterConnectionSchema,
  ZClusterSchema,
  ZCreateClusterInputSchema,
  ZKubeconfigContextsSchema,
  ZKubeconfigTextSchema,
  ZRemoveClusterInputSchema,
  ZRemovedClusterSchema,
  ZRotateKeyInputSchema,
  ZSaveClusterConnectionInputSchema,
  ZSetClusterConnectionEnabledInputSchema,
} from "../schemas.ts";
import { adminProcedure, operatorProcedure, router, viewerProcedure } from "../trpc.ts";
import { summarizeDebugLevel, ZDebugLevelSummarySchema } from "./debug-level.ts";

const iso = (date: Date | null) => (date ? date.toISOString() : null);

function serializeConnection(connection: ClusterConnectionView): z.infer<typeof ZClusterConnectionSchema> {
  return {
    ...connection,
    since: connection.since.toISOString(),
    lastErrorAt: iso(connection.lastErrorAt),
    checkedAt: connection.checkedAt.toISOString(),
    updatedAt: connection.updatedAt.toISOString(),
  };
}

function serializeCluster(cluster: ClusterView): z.infer<typeof ZClusterSchema> {
  return {
    ...cluster,
    createdAt: cluster.createdAt.toISOString(),
    keys: cluster.keys.map((key) => ({
      keyId: key.keyId,
      createdAt: key.createdAt.toISOString(),
      retiresAt: iso(key.retiresAt),
      lastUsedAt: iso(key.lastUsedAt),
    })),
    connection: cluster.connection ? serializeConnection(cluster.connection) : null,
  };
}

export const clustersRouter = router({
  list: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/clusters",
        summary: "List clusters",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(z.object({}).optional())
    .output(z.object({ items: z.array(ZClusterSchema) }))
    .query(async ({ ctx }) => ({
      items: (await listClusters({ db: ctx.db })).map(serializeCluster),
    })),

  /** One cluster with its keys and its Kubernetes connection status. */
  get: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/clusters/{id}",
        summary: "Get a cluster",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZClusterConnectionInputSchema)
    .output(ZClusterSchema.extend({ debugLevel: ZDebugLevelSummarySchema.nullable() }))
    .query(async ({ ctx, input }) => {
      // Read together: the cluster page's first render waits for both.
      const [cluster, debugLevel] = await Promise.all([
        getCluster({ db: ctx.db, id: input.id }),
        getDebugLevel({ db: ctx.db, clusterId: input.id }),
      ]);
      return { ...serializeCluster(cluster), debugLevel: summarizeDebugLevel(debugLevel) };
    }),

  /** Registers a cluster; the ingest key in the answer is shown this once. */
  create: operatorProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters",
        summary: "Register a cluster",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZCreateClusterInputSchema)
    .output(z.object({ clusterId: z.string(), keyId: z.string(), secret: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const created = await createCluster({ db: ctx.db, secrets: ctx.secrets, ...input });
      // A key id looked up (and not found) a moment ago must not stay cached as unknown.
      await ctx.ingest.invalidateKeys(created.keyId);
      return created;
    }),

  /**
   * Removes a cluster. Admin only: it drops the cluster's ingest keys (every
   * agent there is refused from then on), its stored reports, stats and
   * inventory, and the record of what Tapfleet installed there.
   */
  remove: adminProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/clusters/{id}",
        summary: "Remove a cluster",
        description:
          "Admin only, because it cannot be undone: deletes the cluster's ingest keys, connection, sensors, reports, stats rollups, inventory and drift verdicts; audit events and rollout history stay. Agents still running there are refused from then on (401 unknown_key); nothing is deleted in the Kubernetes cluster. Refused with 409, changing nothing, while a rollout or a debug level is under way on the cluster, or while Tapfleet manages a sensor there (uninstall or release it first, or pass releaseSensor=true to release it).",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZRemoveClusterInputSchema)
    .output(ZRemovedClusterSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await deleteCluster({
        db: ctx.db,
        bus: ctx.bus,
        secrets: ctx.secrets,
        clusterId: input.id,
        releaseSensor: input.releaseSensor === "true",
      });
      // What went, as counts down to 0; a released sensor is named with its DaemonSet.
      const released = result.releasedSensor;
      ctx.auditNotes.changes = [
        ...Object.entries(result.rows)
          .filter(([, count]) => count > 0)
          .map(([field, count]) => ({ field, from: count, to: 0 })),
        ...(released
          ? [
              {
                field: "sensor",
                from: `${released.origin} ${released.namespace}/${released.name}`,
                to: "released",
              },
            ]
          : []),
      ];
      return { id: input.id, removed: result.rows, releasedSensor: result.releasedSensor };
    }),

  rotateKey: operatorProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/{id}/rotate-key",
        summary: "Rotate a cluster's ingest key",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZRotateKeyInputSchema)
    .output(
      z.object({
        keyId: z.string(),
        secret: z.string(),
        oldKeysRetireAt: z.string(),
        sensorKeySecret: z
          .object({
            written: z.string().nullable().describe("The object that got the new key (e.g. Secret ns/name)."),
            skipped: z
              .string()
              .nullable()
              .describe(
                "Why the sensor's Secret was not written (the cluster could not be asked or refused).",
              ),
          })
          .nullable()
          .describe(
            "What happened to the key Secret of the sensor Tapfleet manages in the cluster; null when it manages none.",
          ),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const rotated = await rotateIngestKey({
        db: ctx.db,
        secrets: ctx.secrets,
        clusterId: input.id,
        graceHours: input.graceHours,
      });
      await ctx.ingest.invalidateKeys(rotated.keyId);
      // Where Tapfleet installed the sensor, its Secret gets the new key and the pods roll (the key is in the config hash);
      // an adopted sensor's key Secret gets it when Tapfleet made that Secret.
      const refreshed = await refreshSensorIngestKey({
        db: ctx.db,
        bus: ctx.bus,
        secrets: ctx.secrets,
        clusterId: input.id,
        installedBy: `${ctx.actor.type} ${ctx.actor.name}`,
      });
      if (refreshed !== null)
        ctx.auditNotes.changes = [
          { field: "sensorKey", from: null, to: refreshed.written ?? `not written: ${refreshed.skipped}` },
        ];
      return {
        ...rotated,
        oldKeysRetireAt: rotated.oldKeysRetireAt.toISOString(),
        sensorKeySecret: refreshed,
      };
    }),

  /** The contexts of a kubeconfig, to choose one before connecting; nothing is stored or contacted. */
  kubeconfigContexts: operatorProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/kubeconfig-contexts",
        summary: "List the contexts of a kubeconfig",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(z.object({ kubeconfig: ZKubeconfigTextSchema }))
    .output(ZKubeconfigContextsSchema)
    .mutation(({ input }) => {
      const listed = listConnectionContexts({ kubeconfig: input.kubeconfig });
      return { contexts: listed.contexts, currentContext: listed.currentContext ?? null };
    }),

  /**
   * Connects the cluster through a kubeconfig context (or replaces its
   * connection). The connection is tested first; a failed test stores nothing.
   */
  saveConnection: operatorProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/clusters/{id}/connection",
        summary: "Connect a cluster through a kubeconfig",
        description:
          "Body: {kubeconfig, context}. Tests the connection (server version; list and watch of nodes, pods and daemonsets) before storing the context's kubeconfig encrypted. Exec and auth-provider plugins are refused: use a ServiceAccount token.",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZSaveClusterConnectionInputSchema)
    .output(ZClusterConnectionSchema)
    .mutation(async ({ ctx, input }) =>
      serializeConnection(
        await saveClusterConnection({
          db: ctx.db,
          bus: ctx.bus,
          secrets: ctx.secrets,
          clusterId: input.id,
          kubeconfig: input.kubeconfig,
          context: input.context,
        }),
      ),
    ),

  /** Tests the stored connection again and records the result. */
  testConnection: operatorProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/{id}/connection/test",
        summary: "Test a cluster's connection again",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZClusterConnectionInputSchema)
    .output(ZClusterConnectionSchema)
    .mutation(async ({ ctx, input }) =>
      serializeConnection(
        await testClusterConnection({ db: ctx.db, secrets: ctx.secrets, clusterId: input.id }),
      ),
    ),

  setConnectionEnabled: operatorProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/clusters/{id}/connection",
        summary: "Disable or enable a cluster's connection",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZSetClusterConnectionEnabledInputSchema)
    .output(ZClusterConnectionSchema)
    .mutation(async ({ ctx, input }) =>
      serializeConnection(
        await setClusterConnectionEnabled({
          db: ctx.db,
          bus: ctx.bus,
          clusterId: input.id,
          enabled: input.enabled,
        }),
      ),
    ),

  /** Forgets the connection; the cluster and its ingest keys stay. */
  removeConnection: operatorProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/clusters/{id}/connection",
        summary: "Remove a cluster's connection",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZClusterConnectionInputSchema)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await removeClusterConnection({ db: ctx.db, bus: ctx.bus, clusterId: input.id });
      return { ok: true as const };
    }),
});
