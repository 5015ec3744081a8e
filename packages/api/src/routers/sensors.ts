import { STATS_TOPIC, subscribeTopic } from "@tapfleet/core";
import { z } from "zod";
import { ZClusterIdSchema, ZLiveReportSchema, ZSensorSchema } from "../schemas.ts";
import { router, viewerProcedure } from "../trpc.ts";
import { listActions, requestSnapshot } from "./sensor-actions.ts";
import { listSensorsView, reportingAfter } from "./sensor-views.ts";

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
      items: await listSensorsView({ db: ctx.db, clusterId: input?.clusterId, now: new Date() }),
    })),

  /**
   * A summary of every report as it is stored, over SSE, with the sensor's reporting state
   * after it (and so when it turns silent if no other report follows); optionally one cluster's.
   */
  live: viewerProcedure
    .input(z.object({ clusterId: ZClusterIdSchema.optional() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      for await (const summary of subscribeTopic(ctx.bus, STATS_TOPIC, signal)) {
        if (input?.clusterId && summary.clusterId !== input.clusterId) continue;
        yield ZLiveReportSchema.parse({
          ...summary,
          reporting: reportingAfter({ summary, lastSeenAt: new Date(summary.receivedAt), now: new Date() }),
        });
      }
    }),
});
