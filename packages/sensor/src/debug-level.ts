// A time-boxed debug level: OSSENSOR_DEBUG set on a cluster's sensor
// DaemonSet for a while, then put back. The request's rules, shared by the
// API and the dashboard's form. Browser-safe (no node: imports).

import { z } from "zod";
import { DEBUG_LEVEL } from "./settings.ts";

/** How long a debug level may stay set, in minutes. */
export const DEBUG_LEVEL_MINUTES = { min: 1, max: 1440, default: 30 } as const;

/** The environment variable a debug level sets. */
export const DEBUG_LEVEL_VARIABLE = "OSSENSOR_DEBUG";

const wholeNumber = (field: string, bounds: { min: number; max: number }, unit = "") =>
  z
    .number({ error: `${field}: must be a number` })
    .int({ error: `${field}: must be a whole number between ${bounds.min} and ${bounds.max}${unit}` })
    .min(bounds.min, { error: `${field}: must be between ${bounds.min} and ${bounds.max}${unit}` })
    .max(bounds.max, { error: `${field}: must be between ${bounds.min} and ${bounds.max}${unit}` });

/** A Kubernetes object name (RFC 1123 subdomain). */
const objectName = (field: string) =>
  z.string({ error: `${field}: must be a string` }).regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, {
    error: `${field}: must be a Kubernetes name (lowercase letters, digits, "-" and ".")`,
  });

export const ZDebugLevelSchema = wholeNumber("level", DEBUG_LEVEL);
export const ZDebugLevelMinutesSchema = wholeNumber("minutes", DEBUG_LEVEL_MINUTES, " minutes");

/** Which sensor DaemonSet of the cluster; required when the cluster has several. */
export const ZDebugLevelDaemonSetSchema = z.strictObject({
  namespace: objectName("daemonSet.namespace"),
  name: objectName("daemonSet.name"),
});

/** The body of "set a debug level": level 0–5 for 1–1440 minutes. */
export const ZDebugLevelRequestSchema = z.strictObject({
  level: ZDebugLevelSchema,
  minutes: ZDebugLevelMinutesSchema,
  daemonSet: ZDebugLevelDaemonSetSchema.optional(),
});
export type DebugLevelRequest = z.infer<typeof ZDebugLevelRequestSchema>;
