import {
  adoptSensor,
  AppError,
  exportSensorManifests,
  previewSensorAdoption,
  previewSensorManifests,
  releaseSensor,
  ZSensorAdoptOptionsSchema,
  ZSensorDaemonSetRefSchema,
  getSensorInstallStatus,
  installSensor,
  roleAtLeast,
  uninstallSensor,
  ZSensorInstallOptionsSchema,
  type AuthenticatedActor,
  type SensorInstallStatus,
  ZDriftChangeSchema,
} from "@tapfleet/core";
import { z } from "zod";
import { ZClusterIdSchema } from "../schemas.ts";
import { adminProcedure, router, viewerProcedure } from "../trpc.ts";

const ZObjectViewSchema = z.object({ kind: z.string(), name: z.string(), namespace: z.string().nullable() });

export const ZSensorInstallStatusSchema = z.object({
  installed: z.boolean(),
  revision: z.number().int().nullable(),
  namespace: z.string().nullable(),
  name: z.string().nullable(),
  image: z.string().nullable(),
  captureMode: z.enum(["privileged", "capabilities"]).nullable(),
  networkPolicy: z.boolean().nullable(),
  configHash: z.string().nullable(),
  installedBy: z.string().nullable(),
  installedAt: z.string().nullable(),
  reachable: z.boolean(),
  error: z.string().nullable(),
  objects: z.array(ZObjectViewSchema.extend({ state: z.enum(["present", "replaced", "missing"]) })),
  rollout: z
    .object({
      desired: z.number().int(),
      current: z.number().int(),
      ready: z.number().int(),
      updated: z.number().int(),
      available: z.number().int(),
    })
    .nullable(),
  drift: z.array(z.string()),
  /** The template's differences by setting: what Tapfleet applied and what the cluster has. */
  driftChanges: z.array(ZDriftChangeSchema),
  /** Since when the leader has seen the DaemonSet drifted. */
  driftSince: z.string().nullable(),
  origin: z.enum(["installed", "adopted"]).nullable(),
  profile: z.object({ id: z.string(), name: z.string(), revision: z.number().int() }).nullable(),
});

const ZSettingValueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

export const ZSensorAdoptionPreviewSchema = z.object({
  clusterId: z.string(),
  namespace: z.string(),
  name: z.string(),
  uid: z.string(),
  container: z.string().nullable(),
  image: z.string().nullable(),
  captureMode: z.enum(["privileged", "capabilities"]),
  settings: z.record(z.string(), ZSettingValueSchema).nullable(),
  hmacKeySource: z.string(),
  hmacKeyOnRollout: z.string(),
  unknownVariables: z.array(z.string()),
  warnings: z.array(z.string()),
  problems: z.array(z.string()),
  adoptable: z.boolean(),
  suggestedProfileName: z.string(),
  defaultMessage: z.string(),
});

const ZManifestsSchema = z.object({
  yaml: z.string(),
  includesSecret: z.boolean(),
  objects: z.array(z.object({ kind: z.string(), name: z.string() })),
});

const serialize = (status: SensorInstallStatus): z.infer<typeof ZSensorInstallStatusSchema> => ({
  ...status,
  installedAt: status.installedAt ? status.installedAt.toISOString() : null,
  driftSince: status.driftSince ? status.driftSince.toISOString() : null,
});

const actorName = (actor: AuthenticatedActor) => `${actor.type} ${actor.name}`;

/** "true" or "false", as a query parameter reads; anything else is refused at the field. */
const ZFlagSchema = z.string().regex(/^(true|false)$/, 'must be "true" or "false"');

export const sensorInstallRouter = router({
  /** Installs (or re-installs) the sensor in the connected cluster. */
  install: adminProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/{id}/sensor",
        summary: "Install the sensor in a connected cluster",
        description:
          "Renders and applies the Namespace, ServiceAccount, ClusterRole and binding, the Secret with the cluster's ingest key, the DaemonSet and optionally a NetworkPolicy (server-side apply, field manager tapfleet). Refused with 409 when the cluster has no enabled connection or a DaemonSet of that name exists that Tapfleet did not install; with 403 naming the permission the connection lacks. A refusal midway removes what the install created.",
        tags: ["sensor"],
        protect: true,
      },
    })
    .input(ZSensorInstallOptionsSchema.extend({ id: ZClusterIdSchema }))
    .output(ZSensorInstallStatusSchema)
    .mutation(async ({ ctx, input }) => {
      const { id, ...install } = input;
      return serialize(
        await installSensor({
          db: ctx.db,
          bus: ctx.bus,
          secrets: ctx.secrets,
          clusterId: id,
          install,
          installedBy: actorName(ctx.actor),
        }),
      );
    }),

  /** What Tapfleet installed, each object's presence, the DaemonSet's rollout counts and any drift. */
  status: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/clusters/{id}/sensor",
        summary: "The sensor installed in a cluster",
        tags: ["sensor"],
        protect: true,
      },
    })
    .input(z.object({ id: ZClusterIdSchema }))
    .output(ZSensorInstallStatusSchema)
    .query(async ({ ctx, input }) =>
      serialize(await getSensorInstallStatus({ db: ctx.db, secrets: ctx.secrets, clusterId: input.id })),
    ),

  /** Removes exactly what was installed; the namespace only if the install created it and it holds nothing else. */
  uninstall: adminProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/clusters/{id}/sensor",
        summary: "Uninstall the sensor from a cluster",
        tags: ["sensor"],
        protect: true,
      },
    })
    .input(z.object({ id: ZClusterIdSchema }))
    .output(
      z.object({
        removed: z.array(ZObjectViewSchema),
        kept: z.array(ZObjectViewSchema.extend({ reason: z.string() })),
      }),
    )
    .mutation(({ ctx, input }) =>
      uninstallSensor({ db: ctx.db, bus: ctx.bus, secrets: ctx.secrets, clusterId: input.id }),
    ),

  /**
   * The installed objects as YAML for kubectl apply -f. The Secret (with the
   * ingest key) only for an admin asking with includeSecret=true; otherwise the
   * YAML says how to create it.
   */
  manifests: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/clusters/{id}/sensor/manifests",
        summary: "The sensor's objects as YAML",
        description:
          "includeSecret=true (admins only) adds the Secret holding the cluster's ingest key; without it the Secret is left out and the YAML's header shows the kubectl command that creates it.",
        tags: ["sensor"],
        protect: true,
      },
    })
    .input(z.object({ id: ZClusterIdSchema, includeSecret: ZFlagSchema.optional() }))
    .output(ZManifestsSchema)
    .query(async ({ ctx, input }) => {
      const includeSecret = input.includeSecret === "true";
      if (includeSecret && !roleAtLeast(ctx.actor.role, "admin"))
        throw new AppError("FORBIDDEN", {
          userMessage: "Only an admin may export the Secret with the ingest key (includeSecret).",
        });
      return exportSensorManifests({
        db: ctx.db,
        secrets: ctx.secrets,
        clusterId: input.id,
        includeSecret,
      });
    }),

  /**
   * Export before install: the YAML of the objects an install with these
   * options would apply, for GitOps users; the cluster is not touched.
   */
  manifestsPreview: viewerProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/{id}/sensor/manifests/preview",
        summary: "The YAML an install would apply, without installing",
        description:
          "The body is the install's (POST /clusters/{id}/sensor). Applying the YAML with kubectl apply -f creates the objects the install would, and Tapfleet does not see them as drift. includeSecret=true (admins only) adds the Secret with the cluster's ingest key; without it the YAML's header shows the kubectl command that creates it.",
        tags: ["sensor"],
        protect: true,
      },
    })
    .input(
      ZSensorInstallOptionsSchema.extend({ id: ZClusterIdSchema, includeSecret: z.boolean().default(false) }),
    )
    .output(ZManifestsSchema)
    .mutation(async ({ ctx, input }) => {
      const { id, includeSecret, ...install } = input;
      if (includeSecret && !roleAtLeast(ctx.actor.role, "admin"))
        throw new AppError("FORBIDDEN", {
          field: "includeSecret",
          userMessage: "Only an admin may export the Secret with the ingest key (includeSecret).",
        });
      return previewSensorManifests({
        db: ctx.db,
        secrets: ctx.secrets,
        clusterId: id,
        install,
        includeSecret,
      });
    }),

  /** What adopting a sensor DaemonSet found in the cluster would import; changes nothing. */
  adoptPreview: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/clusters/{id}/sensor/adopt-preview",
        summary: "Preview adopting a sensor DaemonSet",
        description:
          "Reads the DaemonSet (and the Secrets and ConfigMaps its sensor variables reference) from the cluster and imports its settings as a profile revision would hold them. warnings: what is not carried into the profile (variables that are not sensor settings stay in the DaemonSet). problems: why it cannot be adopted faithfully; adoptable is false while there are any. The HMAC key is never imported or shown: hmacKeySource says where it comes from, hmacKeyOnRollout what rollouts do with it (a literal key, or none, is replaced at the first rollout by a reference to the key Secret Tapfleet writes with the cluster's ingest key; a reference to your own Secret is kept, and that Secret must hold the cluster's ingest key).",
        tags: ["sensor"],
        protect: true,
      },
    })
    .input(ZSensorDaemonSetRefSchema.extend({ id: ZClusterIdSchema }))
    .output(ZSensorAdoptionPreviewSchema)
    .query(({ ctx, input }) =>
      previewSensorAdoption({
        db: ctx.db,
        secrets: ctx.secrets,
        clusterId: input.id,
        namespace: input.namespace,
        name: input.name,
      }),
    ),

  /** Adopts a sensor DaemonSet: its settings become a profile revision and Tapfleet manages it from then on. */
  adopt: adminProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/{id}/sensor/adopt",
        summary: "Adopt a sensor DaemonSet found in the cluster",
        description:
          'Imports the DaemonSet\'s settings into a new profile (profileName, or one named after the DaemonSet) or as the next revision of an existing one (profileId), with the message given or "Adopted from <cluster> <namespace>/<name>". Tapfleet takes over the DaemonSet only (not the ServiceAccount, RBAC or Secret it references) and marks its metadata with the managed-by label and config-hash annotation; its pod template is not touched, so no pod restarts. Refused with 409, changing nothing, when the preview names a problem or Tapfleet already manages a sensor in the cluster.',
        tags: ["sensor"],
        protect: true,
      },
    })
    .input(ZSensorAdoptOptionsSchema.safeExtend({ id: ZClusterIdSchema }))
    .output(
      ZSensorAdoptionPreviewSchema.extend({
        profile: z.object({ id: z.string(), name: z.string(), revision: z.number().int() }),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { id, ...adopt } = input;
      return adoptSensor({
        db: ctx.db,
        bus: ctx.bus,
        secrets: ctx.secrets,
        clusterId: id,
        adopt,
        actor: ctx.actor,
      });
    }),

  /** Stops managing the sensor; deletes nothing in the cluster. */
  release: adminProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/{id}/sensor/release",
        summary: "Stop managing the sensor, deleting nothing",
        description:
          "Tapfleet forgets the installed or adopted sensor; every object stays in the cluster. An adopted DaemonSet loses the managed-by label and config-hash annotation adoption put on its metadata.",
        tags: ["sensor"],
        protect: true,
      },
    })
    .input(z.object({ id: ZClusterIdSchema }))
    .output(z.object({ released: z.array(ZObjectViewSchema), note: z.string().nullable() }))
    .mutation(({ ctx, input }) =>
      releaseSensor({ db: ctx.db, bus: ctx.bus, secrets: ctx.secrets, clusterId: input.id }),
    ),
});
