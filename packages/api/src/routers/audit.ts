import { listAuditActions, listAuditEvents, streamAuditEvents } from "@tapfleet/core";
import { z } from "zod";
import { ZAuditEventSchema, ZAuditListInputSchema } from "../schemas.ts";
import { tracked } from "@trpc/server";
import { adminProcedure, router } from "../trpc.ts";
import { serializeAuditEvent } from "./serialize.ts";

export const auditRouter = router({
  list: adminProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/audit",
        summary: "Browse the audit log",
        tags: ["audit"],
        protect: true,
      },
    })
    .input(ZAuditListInputSchema)
    .output(z.object({ items: z.array(ZAuditEventSchema), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const page = await listAuditEvents({ db: ctx.db, ...input });
      return { items: page.items.map(serializeAuditEvent), nextCursor: page.nextCursor };
    }),

  actions: adminProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/audit/actions",
        summary: "The actions recorded in the audit log, for filtering",
        tags: ["audit"],
        protect: true,
      },
    })
    .input(z.object({}).optional())
    .output(z.object({ items: z.array(z.string()) }))
    .query(async ({ ctx }) => ({ items: await listAuditActions({ db: ctx.db }) })),

  /**
   * New audit events as they are recorded, over SSE, each once and in id
   * order. With `lastEventId` (sent by the client on reconnect) it starts with
   * what was missed.
   */
  live: adminProcedure
    .input(
      z
        .object({
          lastEventId: z
            .string()
            .regex(/^\d{1,19}$/, "must be an event id")
            .nullish(),
        })
        .optional(),
    )
    .subscription(async function* ({ ctx, input, signal }) {
      for await (const event of streamAuditEvents({
        db: ctx.db,
        bus: ctx.bus,
        afterId: input?.lastEventId,
        signal,
      }))
        yield tracked(event.id, serializeAuditEvent(event));
    }),
});
