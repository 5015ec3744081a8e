// The names the rendered objects get by default: one definition for the
// manifests, for the dashboard's enrollment commands and for the docs. No
// Node-only imports, so the browser can load it.

import { HMAC_SECRET_KEY } from "./secret.ts";

export const DEFAULT_NAMESPACE = "tapfleet-sensor";
export const DEFAULT_NAME = "tapfleet-sensor";

/** The Secret holding the HMAC key for the sensor `name`; the key inside it is `hmac-key`. */
export function hmacSecretName(name: string): string {
  return `${name}-hmac`;
}

export { HMAC_SECRET_KEY };
