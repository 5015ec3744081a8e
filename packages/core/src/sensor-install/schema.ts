// The install input, one definition for the API, the core and the dashboard's form.

import { DEFAULT_NAMESPACE } from "@tapfleet/sensor/manifests";
import { ZProfileSettingsSchema } from "@tapfleet/sensor/settings";
import { z } from "zod";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A taint the sensor's pods tolerate, as Kubernetes takes it. */
export const ZTolerationSchema = z
  .strictObject({
    key: z.string().min(1, "must not be empty").optional(),
    operator: z.enum(["Exists", "Equal"], { message: "must be Exists or Equal" }),
    value: z.string().optional(),
    effect: z
      .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], {
        message: "must be NoSchedule, PreferNoSchedule or NoExecute",
      })
      .optional(),
  })
  .superRefine((toleration, context) => {
    if (toleration.operator === "Exists" && toleration.value !== undefined)
      context.addIssue({ code: "custom", path: ["value"], message: "must be absent with operator Exists" });
    if (toleration.operator === "Equal" && toleration.key === undefined)
      context.addIssue({ code: "custom", path: ["key"], message: "is required with operator Equal" });
  });

export const ZSensorInstallOptionsSchema = z.object({
  /**
   * The sensor's settings: every setting except the cluster's own (HMAC key,
   * cluster id, key id), which Tapfleet fills in.
   */
  settings: ZProfileSettingsSchema,
  image: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .regex(/^\S+$/, "must be an image reference without spaces"),
  namespace: z
    .string()
    .max(63, "must be at most 63 characters")
    .regex(DNS_LABEL, "must be a DNS label: lowercase letters, digits and '-'")
    .default(DEFAULT_NAMESPACE),
  /** "privileged" as in the seed, or "capabilities": NET_RAW and NET_ADMIN only (stricter). */
  captureMode: z.enum(["privileged", "capabilities"]).default("privileged"),
  /** Render a NetworkPolicy that lets the sensor reach only DNS and the collector. */
  networkPolicy: z.boolean().default(false),
  /** The taints the sensor tolerates; absent: every taint (a sensor belongs on every node). */
  tolerations: z.array(ZTolerationSchema).max(50, "must be at most 50 tolerations").optional(),
  /** Seconds a new pod stays Ready before the rolling update counts it available; absent: the sensor's default. */
  minReadySeconds: z
    .number()
    .int("must be a whole number of seconds")
    .min(0, "must be 0 or more")
    .max(3600, "must be at most 3600 seconds")
    .optional(),
});
export type SensorInstallOptions = z.output<typeof ZSensorInstallOptionsSchema>;
export type SensorInstallOptionsInput = z.input<typeof ZSensorInstallOptionsSchema>;

/** DaemonSet names are DNS subdomains. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Profile names are DNS labels (as the profiles' own rule), so they can name Kubernetes objects later. */
export const ZAdoptProfileNameSchema = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be 1–63 lowercase letters, digits or "-", starting and ending with a letter or digit',
  );

/** Which sensor DaemonSet to adopt. */
export const ZSensorDaemonSetRefSchema = z.object({
  namespace: z
    .string()
    .max(63, "must be at most 63 characters")
    .regex(DNS_LABEL, "must be a DNS label: lowercase letters, digits and '-'"),
  name: z
    .string()
    .max(253, "must be at most 253 characters")
    .regex(DNS_SUBDOMAIN, "must be a DaemonSet name: lowercase letters, digits, '-' and '.'"),
});

/**
 * The adopt input: the DaemonSet, and either the name of a new profile or the
 * id of an existing one to add the imported settings to as its next revision.
 */
export const ZSensorAdoptOptionsSchema = ZSensorDaemonSetRefSchema.extend({
  profileName: ZAdoptProfileNameSchema.optional(),
  profileId: z.uuid("must be a profile id").optional(),
  /** The revision's message; "Adopted from <cluster> <namespace>/<name>" when absent. */
  message: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(500, "must be at most 500 characters")
    .optional(),
}).superRefine((value, context) => {
  if (value.profileName !== undefined && value.profileId !== undefined)
    context.addIssue({
      code: "custom",
      path: ["profileId"],
      message: "give either profileName (a new profile) or profileId (an existing one), not both",
    });
});
export type SensorAdoptOptions = z.output<typeof ZSensorAdoptOptionsSchema>;
