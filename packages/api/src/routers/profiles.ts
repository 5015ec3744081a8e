import {
  createProfile,
  diffRevisions,
  getEffectiveSettings,
  getProfile,
  listProfiles,
  previewProfileInterfaces,
  removeClusterOverride,
  saveProfileRevision,
  setClusterOverride,
  type Author,
  type ProfileSummaryView,
  type ProfileView,
} from "@tapfleet/core";
import { ZClusterIdSchema } from "@tapfleet/sensor/accounts";
import { ZProfileOverrideSchema, ZProfileSettingsSchema } from "@tapfleet/sensor/settings";
import { z } from "zod";
import { ZIdSchema, ZOkSchema } from "../schemas.ts";
import { adminProcedure, router, viewerProcedure } from "../trpc.ts";

// ---------------------------------------------------------------------------
// Schemas: inputs are the contract's; outputs declare every field.

/** Profile names: DNS labels, so they can name Kubernetes objects later. */
export const ZProfileNameSchema = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be 1–63 lowercase letters, digits or "-", starting and ending with a letter or digit',
  );
export const ZRevisionMessageSchema = z
  .string()
  .trim()
  .min(1, "say what changed and why")
  .max(500, "must be at most 500 characters");

const ZSettingValueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);
/** Stored settings, as saved (validated on the way in; read back as they are). */
const ZStoredSettingsSchema = z.record(z.string(), ZSettingValueSchema);

const ZAuthorSchema = z.object({
  type: z.enum(["user", "token", "system"]),
  id: z.string().nullable(),
  name: z.string(),
});

const ZProfileSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  createdAt: z.string(),
  createdBy: ZAuthorSchema,
  latestRevision: z.number().int(),
  updatedAt: z.string(),
  updatedBy: ZAuthorSchema,
  overrideCount: z.number().int(),
});

const ZRevisionSchema = z.object({
  number: z.number().int(),
  settings: ZStoredSettingsSchema,
  message: z.string(),
  author: ZAuthorSchema,
  createdAt: z.string(),
});

const ZOverrideSchema = z.object({
  clusterId: z.string(),
  settings: ZStoredSettingsSchema,
  author: ZAuthorSchema,
  createdAt: z.string(),
});

const ZProfileSchema = ZProfileSummarySchema.extend({
  revisions: z.array(ZRevisionSchema).describe("Newest first."),
  overrides: z.array(ZOverrideSchema).describe("The per-cluster overrides in force."),
});

const ZSettingChangeSchema = z.object({
  setting: z.string(),
  variable: z.string(),
  kind: z.enum(["added", "changed", "removed"]),
  from: ZSettingValueSchema.nullable(),
  to: ZSettingValueSchema.nullable(),
  default: ZSettingValueSchema.nullable(),
});

const ZEffectiveSettingSchema = z.object({
  setting: z.string(),
  variable: z.string(),
  value: ZSettingValueSchema.nullable(),
  source: z.object({
    kind: z.enum(["override", "profile", "default", "unset"]),
    label: z.string().describe('"override for prod-eu", "profile r3", "default" or "not set".'),
  }),
  overridden: ZSettingValueSchema.nullable().describe("The profile's value an override replaces."),
});

const ZInterfacePreviewSchema = z.object({
  clusterId: z.string(),
  nodeName: z.string(),
  reportedAt: z.string().nullable(),
  known: z.boolean().describe("False when the node's agent does not report its interfaces."),
  interfaces: z.array(
    z.object({
      name: z.string(),
      captured: z.boolean(),
      reason: z.enum(["loopback", "not_included", "excluded", "not_the_device"]).nullable(),
    }),
  ),
});

const ZRevisionNumberSchema = z.coerce.number().int("must be a whole number").min(1, "must be 1 or more");

// ---------------------------------------------------------------------------

const iso = (date: Date) => date.toISOString();
const author = (value: Author) => ({ type: value.type, id: value.id, name: value.name });

function serializeSummary(profile: ProfileSummaryView): z.infer<typeof ZProfileSummarySchema> {
  return {
    id: profile.id,
    name: profile.name,
    description: profile.description,
    createdAt: iso(profile.createdAt),
    createdBy: author(profile.createdBy),
    latestRevision: profile.latestRevision,
    updatedAt: iso(profile.updatedAt),
    updatedBy: author(profile.updatedBy),
    overrideCount: profile.overrideCount,
  };
}

function serializeProfile(profile: ProfileView): z.infer<typeof ZProfileSchema> {
  return {
    ...serializeSummary(profile),
    revisions: profile.revisions.map((revision) => ({
      number: revision.number,
      settings: revision.settings,
      message: revision.message,
      author: author(revision.author),
      createdAt: iso(revision.createdAt),
    })),
    overrides: profile.overrides.map((override) => ({
      clusterId: override.clusterId,
      settings: override.settings,
      author: author(override.author),
      createdAt: iso(override.createdAt),
    })),
  };
}

const openapi = (
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: `/${string}`,
  summary: string,
  description?: string,
) => ({
  openapi: {
    method,
    path,
    summary,
    tags: ["profiles"],
    protect: true,
    ...(description ? { description } : {}),
  },
});

export const profilesRouter = router({
  list: viewerProcedure
    .meta(openapi("GET", "/profiles", "List configuration profiles"))
    .input(z.object({}).optional())
    .output(z.object({ items: z.array(ZProfileSummarySchema) }))
    .query(async ({ ctx }) => ({ items: (await listProfiles({ db: ctx.db })).map(serializeSummary) })),

  get: viewerProcedure
    .meta(openapi("GET", "/profiles/{id}", "Get a profile with its revisions and overrides"))
    .input(z.object({ id: ZIdSchema }))
    .output(ZProfileSchema)
    .query(async ({ ctx, input }) => serializeProfile(await getProfile({ db: ctx.db, id: input.id }))),

  create: adminProcedure
    // Audited under the new profile's id (set below), not its name.
    .meta({
      ...openapi("POST", "/profiles", "Create a profile", "Creates the profile with its first revision, r1."),
      auditTarget: () => undefined,
    })
    .input(
      z.object({
        name: ZProfileNameSchema,
        description: z.string().max(500, "must be at most 500 characters").optional(),
        settings: ZProfileSettingsSchema,
        message: ZRevisionMessageSchema,
      }),
    )
    .output(ZProfileSchema)
    .mutation(async ({ ctx, input }) => {
      const created = await createProfile({ db: ctx.db, actor: ctx.actor, ...input });
      ctx.auditNotes.target = created.id;
      return serializeProfile(created);
    }),

  saveRevision: adminProcedure
    .meta(
      openapi(
        "POST",
        "/profiles/{id}/revisions",
        "Save a new revision of a profile",
        "expectedLatest is the revision the change was made from; when someone saved since, nothing is saved and the answer is 409 naming who.",
      ),
    )
    .input(
      z.object({
        id: ZIdSchema,
        expectedLatest: z.number().int("must be a whole number").min(1, "must be 1 or more"),
        settings: ZProfileSettingsSchema,
        message: ZRevisionMessageSchema,
      }),
    )
    .output(ZRevisionSchema)
    .mutation(async ({ ctx, input }) => {
      const revision = await saveProfileRevision({
        db: ctx.db,
        actor: ctx.actor,
        profileId: input.id,
        expectedLatest: input.expectedLatest,
        settings: input.settings,
        message: input.message,
      });
      return {
        number: revision.number,
        settings: revision.settings,
        message: revision.message,
        author: author(revision.author),
        createdAt: iso(revision.createdAt),
      };
    }),

  diff: viewerProcedure
    .meta(
      openapi(
        "GET",
        "/profiles/{id}/diff",
        "Compare two revisions of a profile, setting by setting",
        "A setting unset in one revision and set to its default in the other is not a difference.",
      ),
    )
    .input(z.object({ id: ZIdSchema, from: ZRevisionNumberSchema, to: ZRevisionNumberSchema }))
    .output(
      z.object({ from: z.number().int(), to: z.number().int(), changes: z.array(ZSettingChangeSchema) }),
    )
    .query(async ({ ctx, input }) => ({
      from: input.from,
      to: input.to,
      changes: await diffRevisions({ db: ctx.db, profileId: input.id, from: input.from, to: input.to }),
    })),

  effective: viewerProcedure
    .meta(
      openapi(
        "GET",
        "/profiles/{id}/effective",
        "A cluster's effective settings under a profile, each with its source",
        "Without clusterId: the profile's own values and defaults. Without revision: the latest.",
      ),
    )
    .input(
      z.object({
        id: ZIdSchema,
        clusterId: ZClusterIdSchema.optional(),
        revision: ZRevisionNumberSchema.optional(),
      }),
    )
    .output(
      z.object({
        revision: z.number().int(),
        clusterId: z.string().nullable(),
        settings: z.array(ZEffectiveSettingSchema),
      }),
    )
    .query(async ({ ctx, input }) =>
      getEffectiveSettings({
        db: ctx.db,
        profileId: input.id,
        clusterId: input.clusterId,
        revision: input.revision,
      }),
    ),

  setOverride: adminProcedure
    .meta(
      openapi(
        "PUT",
        "/profiles/{id}/overrides/{clusterId}",
        "Set a cluster's override of a profile",
        "Replaces the cluster's override; the override merged with the latest revision must pass the contract's rules.",
      ),
    )
    .input(z.object({ id: ZIdSchema, clusterId: ZClusterIdSchema, settings: ZProfileOverrideSchema }))
    .output(ZOverrideSchema)
    .mutation(async ({ ctx, input }) => {
      const override = await setClusterOverride({
        db: ctx.db,
        actor: ctx.actor,
        profileId: input.id,
        clusterId: input.clusterId,
        settings: input.settings,
      });
      return {
        clusterId: override.clusterId,
        settings: override.settings,
        author: author(override.author),
        createdAt: iso(override.createdAt),
      };
    }),

  removeOverride: adminProcedure
    .meta(
      openapi("DELETE", "/profiles/{id}/overrides/{clusterId}", "Remove a cluster's override of a profile"),
    )
    .input(z.object({ id: ZIdSchema, clusterId: ZClusterIdSchema }))
    .output(ZOkSchema)
    .mutation(async ({ ctx, input }) => {
      await removeClusterOverride({
        db: ctx.db,
        actor: ctx.actor,
        profileId: input.id,
        clusterId: input.clusterId,
      });
      return { ok: true as const };
    }),

  /** A read (not audited): it only computes. POST because settings are a body. */
  preview: viewerProcedure
    .meta(
      openapi(
        "POST",
        "/profiles/{id}/preview",
        "Preview which interfaces each node would capture",
        "From the interfaces each node's agent last reported, with the agent's own selection rules; each cluster's override of the profile applies.",
      ),
    )
    .input(
      z.object({ id: ZIdSchema, settings: ZProfileSettingsSchema, clusterId: ZClusterIdSchema.optional() }),
    )
    .output(z.object({ nodes: z.array(ZInterfacePreviewSchema) }))
    .query(async ({ ctx, input }) => ({
      nodes: (
        await previewProfileInterfaces({
          db: ctx.db,
          settings: input.settings,
          profileId: input.id,
          clusterId: input.clusterId,
        })
      ).map((node) => ({ ...node, reportedAt: node.reportedAt ? iso(node.reportedAt) : null })),
    })),
});
