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

import { createHash, scrypt, scryptSync } from "node:crypto";
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

const SCRYPT_OPTIONS = { N: 16384, r: 8, p: 1 } as const;

// The scrypt of a key costs about 50 ms of CPU, and a server renders the same
// cluster's key again and again (install, status, drift, rollouts): each
// fingerprint is kept, by the key's SHA-256, for the life of the process.
const MAX_REMEMBERED_KEYS = 10_000;
const fingerprints = new Map<string, string>();

const keyId = (hmacKey: string) => createHash("sha256").update(hmacKey).digest("hex");

function remember(id: string, fingerprint: string): string {
  if (fingerprints.size >= MAX_REMEMBERED_KEYS) fingerprints.delete(fingerprints.keys().next().value!);
  fingerprints.set(id, fingerprint);
  return fingerprint;
}

function keyFingerprint(hmacKey: string): string {
  const id = keyId(hmacKey);
  return (
    fingerprints.get(id) ??
    remember(id, scryptSync(hmacKey, KEY_FINGERPRINT_SALT, 32, SCRYPT_OPTIONS).toString("hex"))
  );
}

/**
 * Computes the key's part of the hash on the thread pool, so that rendering
 * many clusters at once (a rollout) does not hold the event loop ~50 ms per
 * key; computeConfigHash with that key is then cheap.
 */
export async function prepareConfigHashKey(hmacKey: string): Promise<void> {
  const id = keyId(hmacKey);
  if (fingerprints.has(id)) return;
  const derived = await new Promise<Buffer>((resolve, reject) => {
    scrypt(hmacKey, KEY_FINGERPRINT_SALT, 32, SCRYPT_OPTIONS, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
  remember(id, derived.toString("hex"));
}

/** 64 lower-case hex digits. */
export function computeConfigHash(settings: SensorSettings): string {
  const { hmacKey, ...rest } = resolveSensorSettings(settings);
  const fingerprint = keyFingerprint(hmacKey);
  return createHash("sha256")
    .update(canonicalJson({ v: 1, settings: rest, keyFingerprint: fingerprint }))
    .digest("hex");
}
