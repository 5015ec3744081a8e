import { STATS_TOPIC } from "@tapfleet/core";
import { z } from "zod";
import { ZClusterIdSchema, ZReportSummarySchema, ZSensorSchema } from "../schemas.ts";
import { router, viewerProcedure } from "../trpc.ts";
import { listActions, requestSnapshot } from "./sensor-actions.ts";
import { listSensorsView } from "./sensor-views.ts";

export const sensorsRouter = router({
  requestSnapshot,
  actions: listActions,

  list: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/sensors",
        summary: "List sensors as last seen",
        tags: ["sensors"],
        protect: true,
      },
    })
    .input(z.object({ clusterId: ZClusterIdSchema.optional() }).optional())
    .output(z.object({ items: z.array(ZSensorSchema) }))
    .query(async ({ ctx, input }) => ({
      items: await listSensorsView({ db: ctx.db, clusterId: input?.clusterId }),
    })),

  /** A summary of every report as it is stored, over SSE; optionally one cluster's. */
  live: viewerProcedure
    .input(z.object({ clusterId: ZClusterIdSchema.optional() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      for await (const message of ctx.bus.subscribe(STATS_TOPIC, signal)) {
        const parsed = ZReportSummarySchema.safeParse(message);
        if (!parsed.success || (input?.clusterId && parsed.data.clusterId !== input.clusterId)) continue;
        yield parsed.data;
      }
    }),
});
