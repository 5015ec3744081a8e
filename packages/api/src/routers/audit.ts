import { listAuditEvents } from "@tapfleet/core";
import { z } from "zod";
import { ZAuditEventSchema, ZAuditListInputSchema } from "../schemas.ts";
import { adminProcedure, router } from "../trpc.ts";
import { serializeAuditEvent } from "./serialize.ts";

export const auditRouter = router({
  list: adminProcedure
    .meta({ openapi: { method: "GET", path: "/audit", summary: "Browse the audit log", tags: ["audit"], protect: true } })
    .input(ZAuditListInputSchema)
    .output(z.object({ items: z.array(ZAuditEventSchema), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const page = await listAuditEvents({ db: ctx.db, ...input });
      return { items: page.items.map(serializeAuditEvent), nextCursor: page.nextCursor };
    }),
});
