// A stable hash of a sensor's settings, for the `tapfleet.io/config-hash`
// annotation and the `configHash` every agent reports.
//
// The agent computes it from its own environment and the server from the
// settings it rendered; equal hashes mean the agent runs the desired config.
// So it covers the *effective* settings (defaults filled in: setting
// VSENSOR_PORT=443 explicitly changes nothing the agent does) and only the
// settings, not manifest options such as the image, which the agent cannot see.
//
// The HMAC key must take part — the key lives in a Secret, and only a change
// of this annotation on the pod template rolls the pods when it rotates — but
// the annotation is readable by anyone who can read DaemonSets, so the key
// enters through scrypt: a weak key is not cheaply guessable from the hash.

import { createHash, scryptSync } from "node:crypto";
import { resolveSensorSettings, type SensorSettings } from "./settings.ts";

export const CONFIG_HASH_ANNOTATION = "tapfleet.io/config-hash";

const KEY_FINGERPRINT_SALT = "tapfleet.io/config-hash/v1";

/** JSON with object keys sorted at every level, so field order never changes the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** 64 lower-case hex digits. */
export function computeConfigHash(settings: SensorSettings): string {
  const { hmacKey, ...rest } = resolveSensorSettings(settings);
  const keyFingerprint = scryptSync(hmacKey, KEY_FINGERPRINT_SALT, 32, { N: 16384, r: 8, p: 1 }).toString(
    "hex",
  );
  return createHash("sha256")
    .update(canonicalJson({ v: 1, settings: rest, keyFingerprint }))
    .digest("hex");
}
