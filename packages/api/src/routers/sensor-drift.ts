import {
  adoptSensorDrift,
  getSensorDrift,
  restoreSensorDrift,
  SENSOR_DRIFT_TOPIC,
  subscribeTopic,
  ZAdoptProfileNameSchema,
  ZDriftChangeSchema,
  ZSensorDaemonSetRefSchema,
  ZSensorDriftSchema,
  type DriftChange,
} from "@tapfleet/core";
import { z } from "zod";
import { ZClusterIdSchema } from "../schemas.ts";
import { adminProcedure, operatorProcedure, router, viewerProcedure } from "../trpc.ts";

/** The drift's changes as audit changes: each setting from what was applied to what was observed. */
const asAuditChanges = (changes: readonly DriftChange[]) =>
  changes.map((change) => ({
    field: change.variable ?? change.name,
    from: change.applied,
    to: change.observed,
  }));

export const ZSensorDriftAdoptInputSchema = z.object({
  id: ZClusterIdSchema,
  /** The new revision's message: why the change made outside Tapfleet is kept. */
  message: z.string().trim().min(1, "must not be empty").max(500, "must be at most 500 characters"),
  /** The new profile's name, when the sensor runs settings given at install rather than a profile's. */
  profileName: ZAdoptProfileNameSchema.optional(),
});

export const sensorDriftRouter = router({
  /** Each sensor DaemonSet Tapfleet answers for in the cluster, and how it differs from what Tapfleet applied. */
  get: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/clusters/{id}/sensor/drift",
        summary: "Drift of the cluster's sensor DaemonSets",
        description:
          "One verdict per sensor DaemonSet Tapfleet installed, adopted or set a debug level on: in-sync, drifted (each change names the setting, what Tapfleet applied and what the cluster has) or missing, with since when. The leader keeps it current within seconds of a change.",
        tags: ["sensor"],
        protect: true,
      },
    })
    .input(z.object({ id: ZClusterIdSchema }))
    .output(z.object({ drifts: z.array(ZSensorDriftSchema) }))
    .query(async ({ ctx, input }) => ({ drifts: await getSensorDrift({ db: ctx.db, clusterId: input.id }) })),

  /** Keeps the drift: the observed settings become a new profile revision in force; nothing is redeployed. */
  adopt: adminProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/{id}/sensor/drift/adopt",
        summary: "Adopt a sensor's drift as a new profile revision",
        description:
          "Body: {message, profileName?}. The settings the DaemonSet runs now become the next revision of the profile in force (or a new profile named profileName, when the sensor runs settings given at install), recorded as in force with the observed image. The DaemonSet is not changed, so no pod restarts. A debug level in force is not made permanent. Refused with 409 when nothing drifted or the observed settings are not valid.",
        tags: ["sensor"],
        protect: true,
      },
    })
    .input(ZSensorDriftAdoptInputSchema)
    .output(
      z.object({
        profile: z.object({ id: z.string(), name: z.string(), revision: z.number().int() }),
        drifts: z.array(ZSensorDriftSchema),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const before = await getSensorDrift({ db: ctx.db, clusterId: input.id });
      const result = await adoptSensorDrift({
        db: ctx.db,
        bus: ctx.bus,
        secrets: ctx.secrets,
        clusterId: input.id,
        actor: ctx.actor,
        message: input.message,
        profileName: input.profileName,
      });
      ctx.auditNotes.changes = [
        ...asAuditChanges(before.flatMap((drift) => drift.changes)),
        { field: "profileRevision", from: null, to: `${result.profile.name} r${result.profile.revision}` },
      ];
      return { profile: result.profile, drifts: result.drift };
    }),

  /** Puts back the template Tapfleet applied (a strategic merge patch of what differs), which redeploys the pods. */
  restore: operatorProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/clusters/{id}/sensor/drift/restore",
        summary: "Restore a drifted sensor DaemonSet",
        description:
          "Body: {daemonSet?: {namespace, name}} (required when several DaemonSets drifted). Patches exactly the settings, variables, image and security fields that differ back to what Tapfleet applied; the DaemonSet controller then rolls the pods. Refused with 409 when nothing drifted or the DaemonSet changed meanwhile.",
        tags: ["sensor"],
        protect: true,
      },
    })
    .input(z.object({ id: ZClusterIdSchema, daemonSet: ZSensorDaemonSetRefSchema.optional() }))
    .output(z.object({ restored: z.array(ZDriftChangeSchema), drifts: z.array(ZSensorDriftSchema) }))
    .mutation(async ({ ctx, input }) => {
      const result = await restoreSensorDrift({
        db: ctx.db,
        bus: ctx.bus,
        secrets: ctx.secrets,
        clusterId: input.id,
        daemonSet: input.daemonSet,
      });
      ctx.auditNotes.changes = result.restored.map((change) => ({
        field: change.variable ?? change.name,
        from: change.observed,
        to: change.applied,
      }));
      return { restored: result.restored, drifts: result.drift };
    }),

  /** The cluster's verdicts each time the leader checked and something changed, over SSE. */
  live: viewerProcedure.input(z.object({ clusterId: ZClusterIdSchema })).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    for await (const message of subscribeTopic(ctx.bus, SENSOR_DRIFT_TOPIC, signal)) {
      if (message.type !== "verdicts" || message.clusterId !== input.clusterId) continue;
      yield { drifts: message.drifts };
    }
  }),
});
