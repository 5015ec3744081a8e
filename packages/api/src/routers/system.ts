import { z } from "zod";
import { publicProcedure, router } from "../trpc.ts";

export const systemRouter = router({
  info: publicProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/system/info",
        summary: "Server version and database kind",
        tags: ["system"],
      },
    })
    .input(z.object({}).optional())
    .output(z.object({ version: z.string(), database: z.enum(["embedded", "external"]) }))
    .query(({ ctx }) => ctx.system),
});
