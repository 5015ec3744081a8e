import {
  changeOwnPassword,
  createUser,
  deleteUser,
  listUsers,
  setUserPassword,
  updateUser,
} from "@tapfleet/core";
import { z } from "zod";
import {
  ZChangeMyPasswordInputSchema,
  ZCreateUserInputSchema,
  ZIdSchema,
  ZOkSchema,
  ZPasswordSchema,
  ZUpdateUserInputSchema,
  ZUserSchema,
} from "../schemas.ts";
import { adminProcedure, router, viewerProcedure } from "../trpc.ts";
import { serializeUser } from "./serialize.ts";

export const usersRouter = router({
  list: adminProcedure
    .meta({
      openapi: { method: "GET", path: "/users", summary: "List users", tags: ["users"], protect: true },
    })
    .input(z.object({}).optional())
    .output(z.object({ items: z.array(ZUserSchema) }))
    .query(async ({ ctx }) => ({ items: (await listUsers({ db: ctx.db })).map(serializeUser) })),

  create: adminProcedure
    .meta({
      openapi: { method: "POST", path: "/users", summary: "Create a user", tags: ["users"], protect: true },
    })
    .input(ZCreateUserInputSchema)
    .output(ZUserSchema)
    .mutation(async ({ ctx, input }) => serializeUser(await createUser({ db: ctx.db, ...input }))),

  update: adminProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/users/{id}",
        summary: "Change a user",
        tags: ["users"],
        protect: true,
      },
    })
    .input(ZUpdateUserInputSchema)
    .output(ZUserSchema)
    .mutation(async ({ ctx, input }) => {
      const { user, changes } = await updateUser({ db: ctx.db, ...input });
      ctx.auditNotes.changes = changes;
      return serializeUser(user);
    }),

  setPassword: adminProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/users/{id}/password",
        summary: "Set a user's password",
        tags: ["users"],
        protect: true,
      },
    })
    .input(z.object({ id: ZIdSchema, password: ZPasswordSchema }))
    .output(ZOkSchema)
    .mutation(async ({ ctx, input }) => {
      await setUserPassword({ db: ctx.db, ...input });
      return { ok: true as const };
    }),

  changeMyPassword: viewerProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/me/password",
        summary: "Change your own password",
        description:
          "Needs the current password. Signs out your other sessions; the one making the change stays signed in.",
        tags: ["users"],
        protect: true,
      },
    })
    .input(ZChangeMyPasswordInputSchema)
    .output(z.object({ ok: z.literal(true), otherSessionsEnded: z.number() }))
    .mutation(async ({ ctx, input }) => {
      ctx.auditNotes.target = ctx.actor.type === "user" ? ctx.actor.id : undefined;
      const { otherSessionsEnded } = await changeOwnPassword({
        db: ctx.db,
        actor: ctx.actor,
        currentPassword: input.currentPassword,
        newPassword: input.newPassword,
        ip: ctx.origin.ip,
      });
      return { ok: true as const, otherSessionsEnded };
    }),

  delete: adminProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/users/{id}",
        summary: "Delete a user",
        tags: ["users"],
        protect: true,
      },
    })
    .input(z.object({ id: ZIdSchema }))
    .output(ZOkSchema)
    .mutation(async ({ ctx, input }) => {
      await deleteUser({
        db: ctx.db,
        id: input.id,
        actingUserId: ctx.actor.type === "user" ? ctx.actor.id : undefined,
      });
      return { ok: true as const };
    }),
});
