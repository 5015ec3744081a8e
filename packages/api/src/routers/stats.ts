// A sensor's page: the sensor as last seen, its capture rates over a range
// (from reports or rollups, at the range's resolution) and its rates live.
import {
  followClusterStatsPoints,
  listLatestStatsPoints,
  followStatsPoints,
  getSensor,
  readStatsSeries,
  ZClusterStatsPointSchema,
  ZStatsPointSchema,
  ZStatsRangeSchema,
  ZStatsSeriesSchema,
} from "@tapfleet/core";
import { ZInterfaceNameSchema } from "@tapfleet/sensor/actions";
import { z } from "zod";
import { ZClusterIdSchema, ZSensorSchema } from "../schemas.ts";
import { router, viewerProcedure } from "../trpc.ts";
import { toSensorView } from "./sensor-views.ts";

const ZSensorIdSchema = z.uuid({ error: "must be a sensor id (a UUID)" });

export const statsRouter = router({
  sensor: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/sensors/{sensorId}",
        summary: "One sensor as last seen, with its latest report's summary",
        tags: ["sensors"],
        protect: true,
      },
    })
    .input(z.object({ sensorId: ZSensorIdSchema }))
    .output(ZSensorSchema)
    .query(async ({ ctx, input }) =>
      toSensorView(await getSensor({ db: ctx.db, id: input.sensorId }), new Date()),
    ),

  series: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/sensors/{sensorId}/stats",
        summary:
          "A sensor's packets/s, bits/s and drops/s per interface and its protocol mix over a range: 15m point by point, 1h and 6h by minute, 24h by 5 minutes, 7d by hour",
        tags: ["sensors"],
        protect: true,
      },
    })
    .input(
      z.object({
        sensorId: ZSensorIdSchema,
        range: ZStatsRangeSchema,
        interface: ZInterfaceNameSchema.optional(),
      }),
    )
    .output(ZStatsSeriesSchema)
    .query(({ ctx, input }) =>
      readStatsSeries({
        db: ctx.db,
        sensorId: input.sensorId,
        range: input.range,
        interfaceName: input.interface,
      }),
    ),

  /** The sensor's rates over each new report's interval, over SSE, as its reports arrive. */
  live: viewerProcedure.input(z.object({ sensorId: ZSensorIdSchema })).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    for await (const point of followStatsPoints({
      db: ctx.db,
      bus: ctx.bus,
      sensorId: input.sensorId,
      signal,
    }))
      yield ZStatsPointSchema.parse(point);
  }),

  /** Each sensor's latest known rates (of one cluster, or of the fleet), from the stored reports: a page's first figures. */
  latest: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/stats/latest",
        summary: "Each sensor's latest known capture rates, of one cluster or of the fleet",
        tags: ["stats"],
        protect: true,
      },
    })
    .input(z.object({ clusterId: ZClusterIdSchema.optional() }).optional())
    .output(z.object({ items: z.array(ZClusterStatsPointSchema) }))
    .query(async ({ ctx, input }) => ({
      items: await listLatestStatsPoints({ db: ctx.db, clusterId: input?.clusterId }),
    })),

  /** Every sensor's rates (of one cluster, or of the fleet) over each new report's interval, over SSE. */
  clusterLive: viewerProcedure
    .input(z.object({ clusterId: ZClusterIdSchema.optional() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      for await (const point of followClusterStatsPoints({
        db: ctx.db,
        bus: ctx.bus,
        clusterId: input?.clusterId,
        signal,
      }))
        yield ZClusterStatsPointSchema.parse(point);
    }),
});
