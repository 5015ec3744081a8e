import {
  DEBUG_LEVEL_TOPIC,
  getDebugLevel,
  revertDebugLevel,
  setDebugLevel,
  subscribeTopic,
  type DebugLevelView,
} from "@tapfleet/core";
import { ZDebugLevelRequestSchema } from "@tapfleet/sensor/debug-level";
import { z } from "zod";
import { ZClusterConnectionInputSchema } from "../schemas.ts";
import { operatorProcedure, router, viewerProcedure } from "../trpc.ts";

export const ZDebugLevelStatusSchema = z.enum(["applying", "active", "reverting", "reverted", "failed"]);

/** What GET /clusters/{id} shows of a debug level. */
export const ZDebugLevelSummarySchema = z.object({
  level: z.number().int(),
  /** The value before; null when the variable was absent (the revert removes it). */
  previousLevel: z.number().int().nullable(),
  revertsAt: z.string(),
  status: ZDebugLevelStatusSchema,
});

export const ZDebugLevelViewSchema = ZDebugLevelSummarySchema.extend({
  clusterId: z.string(),
  daemonSet: z.object({ namespace: z.string(), name: z.string() }),
  container: z.string(),
  setAt: z.string(),
  setBy: z.string(),
  lastError: z.string().nullable(),
});

export function serializeDebugLevel(view: DebugLevelView): z.infer<typeof ZDebugLevelViewSchema> {
  return { ...view, setAt: view.setAt.toISOString(), revertsAt: view.revertsAt.toISOString() };
}

export function summarizeDebugLevel(
  view: DebugLevelView | null,
): z.infer<typeof ZDebugLevelSummarySchema> | null {
  if (!view) return null;
  return {
    level: view.level,
    previousLevel: view.previousLevel,
    revertsAt: view.revertsAt.toISOString(),
    status: view.status,
  };
}

export const debugLevelRouter = router({
  /** The cluster's debug level (the last one set, whatever its status), or null. */
  get: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/clusters/{id}/debug-level",
        summary: "Get a cluster's debug level",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZClusterConnectionInputSchema)
    .output(ZDebugLevelViewSchema.nullable())
    .query(async ({ ctx, input }) => {
      const view = await getDebugLevel({ db: ctx.db, clusterId: input.id });
      return view ? serializeDebugLevel(view) : null;
    }),

  /** Sets OSSENSOR_DEBUG on the cluster's sensor DaemonSet for a while; it reverts by itself. */
  set: operatorProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/{id}/debug-level",
        summary: "Set a cluster's sensor debug level for a time",
        description:
          "Body: {level (0–5), minutes (1–1440), daemonSet?: {namespace, name}}. Sets OSSENSOR_DEBUG on the capture container of the cluster's sensor DaemonSet (required: daemonSet, when the cluster has several) and rolls its pods; when the time is up the previous value is put back (or the variable removed), also across a server restart. A new level while one is set replaces it and keeps the value from before.",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZClusterConnectionInputSchema.extend(ZDebugLevelRequestSchema.shape))
    .output(ZDebugLevelViewSchema)
    .mutation(async ({ ctx, input }) => {
      const before = await getDebugLevel({ db: ctx.db, clusterId: input.id });
      const view = await setDebugLevel({
        db: ctx.db,
        bus: ctx.bus,
        secrets: ctx.secrets,
        clusterId: input.id,
        level: input.level,
        minutes: input.minutes,
        daemonSet: input.daemonSet,
        setBy: ctx.actor.name,
      });
      ctx.auditNotes.changes = [
        {
          field: "OSSENSOR_DEBUG",
          from: before?.status === "reverted" ? null : (before?.level ?? null),
          to: view.level,
        },
        { field: "revertsAt", from: null, to: view.revertsAt.toISOString() },
      ];
      return serializeDebugLevel(view);
    }),

  /** Puts the previous debug level back now. */
  revert: operatorProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/{id}/debug-level/revert",
        summary: "Revert a cluster's sensor debug level now",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZClusterConnectionInputSchema)
    .output(ZDebugLevelViewSchema)
    .mutation(async ({ ctx, input }) =>
      serializeDebugLevel(await revertDebugLevel({ db: ctx.db, bus: ctx.bus, clusterId: input.id })),
    ),

  /**
   * The cluster's debug level each time it changes (set, applied, reverting,
   * reverted, failed): the whole view, as `get` answers, so a card replaces
   * what it shows. Carried by the tab's live stream (live.stream).
   */
  live: viewerProcedure.input(ZClusterConnectionInputSchema).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    for await (const message of subscribeTopic(ctx.bus, DEBUG_LEVEL_TOPIC, signal)) {
      if (message.clusterId !== input.id) continue;
      const view = await getDebugLevel({ db: ctx.db, clusterId: input.id });
      yield { clusterId: input.id, debugLevel: view ? serializeDebugLevel(view) : null };
    }
  }),
});
