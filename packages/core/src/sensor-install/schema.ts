// The install input, one definition for the API, the core and the dashboard's form.

import { DEFAULT_NAMESPACE } from "@tapfleet/sensor/manifests";
import { ZProfileSettingsSchema } from "@tapfleet/sensor/settings";
import { z } from "zod";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

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
});
export type SensorInstallOptions = z.output<typeof ZSensorInstallOptionsSchema>;
export type SensorInstallOptionsInput = z.input<typeof ZSensorInstallOptionsSchema>;
