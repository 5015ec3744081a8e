import type { ObjectMeta, Secret } from "./types.ts";

export const HMAC_SECRET_KEY = "hmac-key";

/** The Secret holding the HMAC key; the pod reads it only through secretKeyRef. */
export function renderHmacSecret(options: { metadata: ObjectMeta; hmacKey: string }): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: options.metadata,
    type: "Opaque",
    data: { [HMAC_SECRET_KEY]: Buffer.from(options.hmacKey, "utf8").toString("base64") },
  };
}
