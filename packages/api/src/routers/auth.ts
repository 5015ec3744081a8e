import { deleteSession, describeCaller, loginWithPassword, toUserView } from "@tapfleet/core";
import { z } from "zod";
import { ZLoginInputSchema, ZOkSchema, ZUserSchema } from "../schemas.ts";
import { publicProcedure, router } from "../trpc.ts";
import { serializeUser } from "./serialize.ts";

const ZSessionUserSchema = ZUserSchema.pick({ id: true, username: true, displayName: true, role: true });

export const authRouter = router({
  login: publicProcedure
    .meta({ auditTarget: (input) => (input as { username?: string } | undefined)?.username })
    .input(ZLoginInputSchema)
    .output(z.object({ user: ZSessionUserSchema }))
    .mutation(async ({ ctx, input }) => {
      const { user, cookieValue, expiresAt } = await loginWithPassword({
        db: ctx.db,
        username: input.username,
        password: input.password,
        ip: ctx.origin.ip,
        userAgent: ctx.origin.userAgent,
      });
      ctx.setSessionCookie(cookieValue, expiresAt);
      ctx.auditNotes.actor = {
        type: "user",
        id: user.id,
        name: user.username,
        role: user.role,
        sessionId: "",
      };
      const view = serializeUser(toUserView(user));
      return {
        user: { id: view.id, username: view.username, displayName: view.displayName, role: view.role },
      };
    }),

  logout: publicProcedure.output(ZOkSchema).mutation(async ({ ctx }) => {
    if (ctx.actor.type === "user") await deleteSession({ db: ctx.db, sessionId: ctx.actor.sessionId });
    ctx.clearSessionCookie();
    return { ok: true as const };
  }),

  me: publicProcedure
    .meta({ openapi: { method: "GET", path: "/me", summary: "Who the caller is", tags: ["auth"] } })
    .input(z.object({}).optional())
    .output(
      z.object({
        user: ZSessionUserSchema.nullable(),
        token: z
          .object({ id: z.string(), name: z.string(), role: ZUserSchema.shape.role })
          .nullable()
          .optional(),
      }),
    )
    .query(({ ctx }) => describeCaller({ db: ctx.db, actor: ctx.actor })),
});
