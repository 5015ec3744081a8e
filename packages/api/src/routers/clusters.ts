import { createCluster, listClusters, rotateIngestKey } from "@tapfleet/core";
import { z } from "zod";
import { ZClusterSchema, ZCreateClusterInputSchema, ZRotateKeyInputSchema } from "../schemas.ts";
import { operatorProcedure, router, viewerProcedure } from "../trpc.ts";

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export const clustersRouter = router({
  list: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/clusters",
        summary: "List clusters",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(z.object({}).optional())
    .output(z.object({ items: z.array(ZClusterSchema) }))
    .query(async ({ ctx }) => ({
      items: (await listClusters({ db: ctx.db })).map((cluster) => ({
        ...cluster,
        createdAt: cluster.createdAt.toISOString(),
        keys: cluster.keys.map((key) => ({
          keyId: key.keyId,
          createdAt: key.createdAt.toISOString(),
          retiresAt: iso(key.retiresAt),
          lastUsedAt: iso(key.lastUsedAt),
        })),
      })),
    })),

  /** Registers a cluster; the ingest key in the answer is shown this once. */
  create: operatorProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters",
        summary: "Register a cluster",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZCreateClusterInputSchema)
    .output(z.object({ clusterId: z.string(), keyId: z.string(), secret: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const created = await createCluster({ db: ctx.db, secrets: ctx.secrets, ...input });
      // A key id looked up (and not found) a moment ago must not stay cached as unknown.
      await ctx.ingest.invalidateKeys(created.keyId);
      return created;
    }),

  rotateKey: operatorProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/{id}/rotate-key",
        summary: "Rotate a cluster's ingest key",
        tags: ["clusters"],
        protect: true,
      },
    })
    .input(ZRotateKeyInputSchema)
    .output(z.object({ keyId: z.string(), secret: z.string(), oldKeysRetireAt: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const rotated = await rotateIngestKey({
        db: ctx.db,
        secrets: ctx.secrets,
        clusterId: input.id,
        graceHours: input.graceHours,
      });
      await ctx.ingest.invalidateKeys(rotated.keyId);
      return { ...rotated, oldKeysRetireAt: rotated.oldKeysRetireAt.toISOString() };
    }),
});
