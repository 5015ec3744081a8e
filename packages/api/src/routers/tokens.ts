import { createApiToken, listApiTokens, revokeApiToken } from "@tapfleet/core";
import { z } from "zod";
import { ZCreateTokenInputSchema, ZIdSchema, ZOkSchema, ZTokenSchema } from "../schemas.ts";
import { router, viewerProcedure } from "../trpc.ts";
import { serializeToken } from "./serialize.ts";

export const tokensRouter = router({
  list: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/tokens",
        summary: "List API tokens",
        tags: ["tokens"],
        protect: true,
      },
    })
    .input(z.object({}).optional())
    .output(z.object({ items: z.array(ZTokenSchema) }))
    .query(async ({ ctx }) => ({
      items: (await listApiTokens({ db: ctx.db, actor: ctx.actor })).map(serializeToken),
    })),

  create: viewerProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/tokens",
        summary: "Create an API token",
        description:
          "The secret is in this answer only. The new token's role may not exceed the caller's effective role; a token creates it for its own owner.",
        tags: ["tokens"],
        protect: true,
      },
    })
    .input(ZCreateTokenInputSchema)
    .output(z.object({ token: ZTokenSchema, secret: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const { token, secret } = await createApiToken({
        db: ctx.db,
        creator: ctx.actor,
        name: input.name,
        role: input.role,
        expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
      });
      return { token: serializeToken(token), secret };
    }),

  revoke: viewerProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/tokens/{id}/revoke",
        summary: "Revoke an API token",
        tags: ["tokens"],
        protect: true,
      },
    })
    .input(z.object({ id: ZIdSchema }))
    .output(ZOkSchema)
    .mutation(async ({ ctx, input }) => {
      await revokeApiToken({ db: ctx.db, actor: ctx.actor, id: input.id });
      return { ok: true as const };
    }),
});
