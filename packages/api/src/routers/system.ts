import { z } from "zod";
import { publicProcedure, router } from "../trpc.ts";

export const systemRouter = router({
  info: publicProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/system/info",
        summary: "Server version, database kind and where agents report",
        description:
          "collector: the address agents report to, from the server's TAPFLEET_PUBLIC_URL ({url, host, port}); null when it is not set.",
        tags: ["system"],
      },
    })
    .input(z.object({}).optional())
    .output(
      z.object({
        version: z.string(),
        database: z.enum(["embedded", "external"]),
        collector: z.object({ url: z.string(), host: z.string(), port: z.number().int() }).nullable(),
      }),
    )
    .query(({ ctx }) => ctx.system),
});
