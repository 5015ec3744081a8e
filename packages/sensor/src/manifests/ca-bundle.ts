// An optional CA bundle for the collector's TLS, as a ConfigMap that the
// capture container mounts at VSENSOR_TLS_CA_FILE.

import type { ConfigMap, Container, ObjectMeta, Volume } from "./types.ts";

export const CA_BUNDLE_KEY = "ca.pem";

export interface CaBundle {
  configMap: ConfigMap;
  volume: Volume;
  mount: NonNullable<Container["volumeMounts"]>[number];
}

/**
 * The ConfigMap and its mount, when a bundle is given and the agent reads one
 * (VSENSOR_TLS_CA_FILE is set); otherwise nothing, with a warning when the
 * two disagree.
 */
export function renderCaBundle(options: {
  metadata: ObjectMeta;
  pem: string | undefined;
  tlsCaFile: string | undefined;
  warnings: string[];
}): CaBundle | undefined {
  const { metadata, pem, tlsCaFile, warnings } = options;
  if (pem === undefined) {
    if (tlsCaFile !== undefined)
      warnings.push(
        `VSENSOR_TLS_CA_FILE: ${tlsCaFile} must exist in the image, or pass caBundle to mount it`,
      );
    return undefined;
  }
  if (tlsCaFile === undefined) {
    warnings.push("caBundle is ignored: VSENSOR_TLS_CA_FILE is not set, so the agent would not read it");
    return undefined;
  }
  return {
    configMap: { apiVersion: "v1", kind: "ConfigMap", metadata, data: { [CA_BUNDLE_KEY]: pem } },
    volume: { name: "ca", configMap: { name: metadata.name } },
    mount: { name: "ca", mountPath: tlsCaFile, subPath: CA_BUNDLE_KEY, readOnly: true },
  };
}
