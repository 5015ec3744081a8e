import {
  abortRollout,
  getRollout,
  listRollouts,
  pauseRollout,
  resumeRollout,
  ROLLOUT_CLUSTER_STATUSES,
  ROLLOUT_STATUSES,
  ROLLOUTS_TOPIC,
  startRollout,
  subscribeTopic,
  ZStartRolloutSchema,
  type RolloutSummaryView,
  type RolloutView,
} from "@tapfleet/core";
import { ZClusterIdSchema } from "@tapfleet/sensor/accounts";
import { z } from "zod";
import { ZIdSchema } from "../schemas.ts";
import { operatorProcedure, router, viewerProcedure } from "../trpc.ts";

// ---------------------------------------------------------------------------
// Schemas: the input is core's; outputs declare every field.

const ZRolloutStatusSchema = z.enum(ROLLOUT_STATUSES);
const ZRolloutClusterStatusSchema = z.enum(ROLLOUT_CLUSTER_STATUSES);
const ZPodCountOutputSchema = z.union([z.number(), z.string()]);

const ZRolloutStrategyOutputSchema = z.object({
  canaryClusterIds: z.array(z.string()),
  waveSize: z.number().int(),
  maxUnavailable: ZPodCountOutputSchema,
  maxSurge: ZPodCountOutputSchema,
  gateSeconds: z.number().int(),
});

const ZRolloutBaseSchema = z.object({
  id: z.string(),
  profile: z.object({ id: z.string(), name: z.string() }),
  revision: z.number().int(),
  image: z.string().nullable(),
  strategy: ZRolloutStrategyOutputSchema,
  status: ZRolloutStatusSchema,
  /** Why it ended (the first failing cluster's reason), or who paused or aborted it. */
  reason: z.string().nullable(),
  startedBy: z.object({
    type: z.enum(["user", "token", "system"]),
    id: z.string().nullable(),
    name: z.string(),
  }),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().int(),
});

export const ZRolloutSummarySchema = ZRolloutBaseSchema.extend({
  clusters: z.array(
    z.object({ clusterId: z.string(), wave: z.number().int(), status: ZRolloutClusterStatusSchema }),
  ),
});

const ZRolloutNodeSchema = z.object({
  nodeName: z.string(),
  podName: z.string().nullable(),
  updated: z.boolean(),
  ready: z.boolean(),
  restarts: z.number().int(),
  waitingReason: z.string().nullable(),
  reporting: z.boolean().nullable(),
});

export const ZRolloutSchema = ZRolloutBaseSchema.extend({
  clusters: z.array(
    z.object({
      clusterId: z.string(),
      position: z.number().int(),
      wave: z.number().int(),
      status: ZRolloutClusterStatusSchema,
      daemonSet: z.object({ namespace: z.string(), name: z.string() }),
      previous: z
        .object({ profileId: z.string().nullable(), revision: z.number().int().nullable() })
        .nullable(),
      reason: z.string().nullable(),
      lastError: z.string().nullable(),
      startedAt: z.string().nullable(),
      changedAt: z.string().nullable(),
      gateDeadline: z.string().nullable(),
      finishedAt: z.string().nullable(),
      baseline: z
        .array(
          z.object({
            nodeName: z.string(),
            ready: z.boolean(),
            reporting: z.boolean(),
            capturing: z.boolean(),
            dropRate: z.number().nullable(),
          }),
        )
        .nullable(),
      progress: z
        .object({
          observedAt: z.string(),
          desired: z.number().int(),
          updated: z.number().int(),
          ready: z.number().int(),
          available: z.number().int(),
          nodes: z.array(ZRolloutNodeSchema),
          waitingFor: z.array(z.string()),
        })
        .nullable(),
    }),
  ),
});

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

function serializeSummary(view: RolloutSummaryView): z.infer<typeof ZRolloutSummarySchema> {
  return { ...view, createdAt: view.createdAt.toISOString(), finishedAt: iso(view.finishedAt) };
}

export function serializeRollout(view: RolloutView): z.infer<typeof ZRolloutSchema> {
  return {
    ...view,
    createdAt: view.createdAt.toISOString(),
    finishedAt: iso(view.finishedAt),
    clusters: view.clusters.map((cluster) => ({
      ...cluster,
      startedAt: iso(cluster.startedAt),
      changedAt: iso(cluster.changedAt),
      gateDeadline: iso(cluster.gateDeadline),
      finishedAt: iso(cluster.finishedAt),
      progress: cluster.progress
        ? { ...cluster.progress, observedAt: cluster.progress.observedAt.toISOString() }
        : null,
    })),
  };
}

const openapi = (method: "GET" | "POST", path: `/${string}`, summary: string, description?: string) => ({
  openapi: {
    method,
    path,
    summary,
    tags: ["rollouts"],
    protect: true,
    ...(description ? { description } : {}),
  },
});

const ZRolloutIdInputSchema = z.object({ id: ZIdSchema });

export const rolloutsRouter = router({
  list: viewerProcedure
    .meta(
      openapi(
        "GET",
        "/rollouts",
        "List rollouts",
        "Newest first: revision, clusters, outcome, duration and who started each.",
      ),
    )
    .input(
      z
        .object({
          clusterId: ZClusterIdSchema.optional(),
          limit: z.coerce
            .number()
            .int("must be a whole number")
            .min(1, "must be between 1 and 500")
            .max(500, "must be between 1 and 500")
            .optional(),
        })
        .optional(),
    )
    .output(z.object({ items: z.array(ZRolloutSummarySchema) }))
    .query(async ({ ctx, input }) => ({
      items: (await listRollouts({ db: ctx.db, clusterId: input?.clusterId, limit: input?.limit })).map(
        serializeSummary,
      ),
    })),

  get: viewerProcedure
    .meta(
      openapi(
        "GET",
        "/rollouts/{id}",
        "Get a rollout",
        "With each cluster's state, the reason of a failure or rollback, and the per-node progress of the clusters under way.",
      ),
    )
    .input(ZRolloutIdInputSchema)
    .output(ZRolloutSchema)
    .query(async ({ ctx, input }) => serializeRollout(await getRollout({ db: ctx.db, id: input.id }))),

  start: operatorProcedure
    .meta({
      ...openapi(
        "POST",
        "/rollouts",
        "Start a rollout of a profile revision",
        "Body: {profileId, revision, clusterIds, image?, strategy?: {canaryClusterIds, waveSize, maxUnavailable, maxSurge, gateSeconds}}. Each cluster must have a sensor Tapfleet manages (installed or adopted). Canary clusters change first, then the others in waves; after each cluster a health gate compares with before the change, and a failed gate rolls that cluster back and stops later waves. Refused (409) while another rollout or a debug level is under way on one of the clusters.",
      ),
      auditTarget: () => undefined,
    })
    .input(ZStartRolloutSchema)
    .output(ZRolloutSchema)
    .mutation(async ({ ctx, input }) => {
      const view = await startRollout({ db: ctx.db, bus: ctx.bus, input, actor: ctx.actor });
      ctx.auditNotes.target = view.id;
      ctx.auditNotes.changes = [
        { field: "profile", from: null, to: `${view.profile.name} r${view.revision}` },
        { field: "clusters", from: null, to: view.clusters.map((c) => c.clusterId).join(", ") },
      ];
      return serializeRollout(view);
    }),

  pause: operatorProcedure
    .meta(
      openapi(
        "POST",
        "/rollouts/{id}/pause",
        "Pause a rollout",
        "No further cluster starts; clusters under way finish their health gate.",
      ),
    )
    .input(ZRolloutIdInputSchema)
    .output(ZRolloutSchema)
    .mutation(async ({ ctx, input }) =>
      serializeRollout(await pauseRollout({ db: ctx.db, bus: ctx.bus, id: input.id, actor: ctx.actor })),
    ),

  resume: operatorProcedure
    .meta(openapi("POST", "/rollouts/{id}/resume", "Resume a paused rollout"))
    .input(ZRolloutIdInputSchema)
    .output(ZRolloutSchema)
    .mutation(async ({ ctx, input }) =>
      serializeRollout(await resumeRollout({ db: ctx.db, bus: ctx.bus, id: input.id })),
    ),

  abort: operatorProcedure
    .meta(
      openapi(
        "POST",
        "/rollouts/{id}/abort",
        "Abort a rollout",
        "Clusters under way are rolled back to their template from before; no other cluster starts. Clusters that passed their gate keep the change.",
      ),
    )
    .input(ZRolloutIdInputSchema)
    .output(ZRolloutSchema)
    .mutation(async ({ ctx, input }) =>
      serializeRollout(await abortRollout({ db: ctx.db, bus: ctx.bus, id: input.id, actor: ctx.actor })),
    ),

  /** Every change of a rollout (or of one, by id) as it happens, over SSE; read it again with `get`. */
  live: viewerProcedure
    .input(z.object({ id: ZIdSchema.optional() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      for await (const message of subscribeTopic(ctx.bus, ROLLOUTS_TOPIC, signal)) {
        if (input?.id && message.rolloutId !== input.id) continue;
        yield message;
      }
    }),
});
