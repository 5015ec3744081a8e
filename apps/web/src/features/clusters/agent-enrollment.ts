// What an agent needs to report for a cluster, as text to paste: the
// `kubectl create secret` command that puts the ingest key where the sensor's
// manifests read it, and the container's env. The names come from
// @tapfleet/sensor, so the dashboard and the rendered DaemonSet agree.

import {
  DEFAULT_NAME,
  DEFAULT_NAMESPACE,
  HMAC_SECRET_KEY,
  hmacSecretName,
} from "@tapfleet/sensor/manifest-names";

export const ENROLLMENT_NAMESPACE = DEFAULT_NAMESPACE;
export const ENROLLMENT_SECRET_NAME = hmacSecretName(DEFAULT_NAME);

/** Quotes a word for a POSIX shell. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Where the agents should report by default: the server's configured public
 * address (TAPFLEET_PUBLIC_URL) when it has one; else a guess, the host the
 * browser reached this server at, with the port only when the page itself came
 * over HTTPS (agents speak HTTPS only, so a plain-HTTP port is no use to
 * them), else 443.
 */
export function defaultCollector(
  location: { protocol: string; hostname: string; port: string },
  configured?: { host: string; port: number } | null,
): {
  host: string;
  port: string;
} {
  if (configured) return { host: configured.host, port: String(configured.port) };
  const host = location.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = location.protocol === "https:" && location.port !== "" ? location.port : "443";
  return { host, port };
}

/**
 * Creates the namespace if needed, then the Secret with the ingest key under the manifests' key;
 * piped through `kubectl apply` so the same command replaces the key after a rotation.
 */
export function secretCommand(options: { secret: string }): string {
  return [
    `kubectl create namespace ${ENROLLMENT_NAMESPACE} --dry-run=client -o yaml | kubectl apply -f -`,
    `kubectl create secret generic ${ENROLLMENT_SECRET_NAME} --namespace ${ENROLLMENT_NAMESPACE} \\`,
    `  --from-literal=${HMAC_SECRET_KEY}=${shellQuote(options.secret)} \\`,
    "  --dry-run=client -o yaml | kubectl apply -f -",
  ].join("\n");
}

/** The capture container's env: the key from the Secret, never inline. */
export function envSnippet(options: { clusterId: string; host: string; port: string }): string {
  return [
    "env:",
    "  - name: TAPFLEET_CLUSTER_ID",
    `    value: ${JSON.stringify(options.clusterId)}`,
    "  - name: VSENSOR_HOSTNAME",
    `    value: ${JSON.stringify(options.host)}`,
    "  - name: VSENSOR_PORT",
    `    value: ${JSON.stringify(options.port)}`,
    "  - name: VSENSOR_HMAC_KEY",
    "    valueFrom:",
    "      secretKeyRef:",
    `        name: ${ENROLLMENT_SECRET_NAME}`,
    `        key: ${HMAC_SECRET_KEY}`,
    "  # Only when the server's certificate is signed by a private CA (mount the CA's PEM file):",
    "  # - name: VSENSOR_TLS_CA_FILE",
    '  #   value: "/etc/tapfleet/ca.pem"',
  ].join("\n");
}
