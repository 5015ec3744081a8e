import { createUser, deleteUser, listUsers, setUserPassword, updateUser } from "@tapfleet/core";
import { z } from "zod";
import {
  ZCreateUserInputSchema,
  ZIdSchema,
  ZOkSchema,
  ZPasswordSchema,
  ZUpdateUserInputSchema,
  ZUserSchema,
} from "../schemas.ts";
import { adminProcedure, router } from "../trpc.ts";
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
    .mutation(async ({ ctx, input }) => serializeUser(await updateUser({ db: ctx.db, ...input }))),

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
