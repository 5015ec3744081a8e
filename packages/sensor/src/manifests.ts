// The Kubernetes objects a cluster needs for the sensor, as typed objects and
// as YAML: Namespace, ServiceAccount, ClusterRole + binding (read-only, on
// exactly what the agent reads), the Secret holding the HMAC key, an optional
// CA bundle ConfigMap, an optional NetworkPolicy, and the DaemonSet. One
// renderer per object lives in ./manifests/; this module puts them together.
//
// Security choices follow the Soveren seed: hostNetwork with
// ClusterFirstWithHostNet, uid 1000 non-root for every container except the
// capture container, and capture either `privileged` (the seed's way, the
// default) or with only the capabilities libpcap needs (`captureMode:
// "capabilities"`, stricter). The key reaches the pod only via secretKeyRef.

import { computeConfigHash } from "./config-hash.ts";
import { renderCaBundle } from "./manifests/ca-bundle.ts";
import { configFileStorage, renderDaemonSet } from "./manifests/daemonset.ts";
import { renderNamespace } from "./manifests/namespace.ts";
import { renderNetworkPolicy, type NetworkPolicyOptions } from "./manifests/network-policy.ts";
import { clusterRoleName, renderClusterRole, renderClusterRoleBinding } from "./manifests/rbac.ts";
import { DEFAULT_NAME, DEFAULT_NAMESPACE, hmacSecretName } from "./manifests/names.ts";
import { renderHmacSecret } from "./manifests/secret.ts";
import type { CaptureMode } from "./manifests/security-context.ts";
import { renderServiceAccount } from "./manifests/service-account.ts";
import type {
  ClusterRole,
  ClusterRoleBinding,
  ConfigMap,
  Container,
  DaemonSet,
  KubeObject,
  Labels,
  Namespace,
  NetworkPolicy,
  ObjectMeta,
  ResourceRequirements,
  Secret,
  ServiceAccount,
  Toleration,
} from "./manifests/types.ts";
import { ZSensorSettingsSchema, resolveSensorSettings, type SensorSettings } from "./settings.ts";

export type * from "./manifests/types.ts";
export { CA_BUNDLE_KEY } from "./manifests/ca-bundle.ts";
export {
  CAPTURE_CONTAINER_NAME,
  CAPTURE_READINESS_PROBE,
  DEFAULT_MIN_READY_SECONDS,
} from "./manifests/daemonset.ts";
export type { NetworkPolicyOptions } from "./manifests/network-policy.ts";
export { AGENT_RBAC_RULES } from "./manifests/rbac.ts";
export { HMAC_SECRET_KEY } from "./manifests/secret.ts";
export {
  CAPTURE_CAPABILITIES,
  captureSecurityContext,
  nonRootSecurityContext,
  type CaptureMode,
} from "./manifests/security-context.ts";
export { toYaml } from "./manifests/yaml.ts";
// Kept here for callers of this module; the agent imports it from ./network.ts.
export { bypassesProxy } from "./network.ts";

/** The label that marks Tapfleet's objects; the cluster watch finds sensor DaemonSets by it. */
export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const PART_OF_VALUE = "tapfleet";

export { DEFAULT_NAME, DEFAULT_NAMESPACE, hmacSecretName } from "./manifests/names.ts";

export interface SensorManifestOptions {
  settings: SensorSettings;
  image: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  namespace?: string;
  name?: string;
  /** "privileged" as in the seed (default), or "capabilities": NET_RAW and NET_ADMIN only. */
  captureMode?: CaptureMode;
  /** Render the Namespace object (default true). */
  createNamespace?: boolean;
  /** Render the HMAC Secret (default true); false when the Secret is managed elsewhere (sealed secrets, vault). */
  createSecret?: boolean;
  /** Secret name (default `<name>-hmac`), key `hmac-key`. */
  secretName?: string;
  /** PEM bundle; rendered as a ConfigMap mounted at VSENSOR_TLS_CA_FILE. */
  caBundle?: string;
  networkPolicy?: NetworkPolicyOptions;
  labels?: Labels;
  resources?: ResourceRequirements;
  tolerations?: Toleration[];
  priorityClassName?: string;
  /** Extra containers; each runs with the non-root security context. */
  sidecars?: Array<Omit<Container, "securityContext">>;
  /** Seconds a new pod stays Ready before the rolling update counts it available (default DEFAULT_MIN_READY_SECONDS). */
  minReadySeconds?: number;
}

export interface SensorManifests {
  namespace?: Namespace;
  serviceAccount: ServiceAccount;
  clusterRole: ClusterRole;
  clusterRoleBinding: ClusterRoleBinding;
  secret?: Secret;
  caBundle?: ConfigMap;
  networkPolicy?: NetworkPolicy;
  daemonSet: DaemonSet;
}

export interface RenderedSensorManifests {
  objects: SensorManifests;
  /** In apply order: the DaemonSet last, so that what it references exists. */
  list: KubeObject[];
  configHash: string;
  warnings: string[];
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Renders every object the sensor needs. The settings must be valid and
 * carry TAPFLEET_CLUSTER_ID; throws otherwise (validate with
 * `parseSensorEnv` or `ZSensorSettingsSchema` first).
 */
export function renderSensorManifests(options: SensorManifestOptions): RenderedSensorManifests {
  const settings = ZSensorSettingsSchema.parse(options.settings);
  if (settings.clusterId === undefined)
    throw new Error("TAPFLEET_CLUSTER_ID: is required to render manifests");
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const name = options.name ?? DEFAULT_NAME;
  for (const [what, value] of [
    ["namespace", namespace],
    ["name", name],
  ] as const) {
    if (!DNS_NAME.test(value) || value.length > 63)
      throw new Error(`renderSensorManifests: ${what} ${JSON.stringify(value)} is not a DNS label`);
  }
  if (
    options.minReadySeconds !== undefined &&
    !(Number.isInteger(options.minReadySeconds) && options.minReadySeconds >= 0)
  )
    throw new Error(
      `renderSensorManifests: minReadySeconds must be a whole number of seconds, 0 or more; got ${options.minReadySeconds}`,
    );
  if (options.image.trim() === "" || /\s/.test(options.image))
    throw new Error("renderSensorManifests: image must be a non-empty image reference");
  const resolved = resolveSensorSettings(settings);
  const secretName = options.secretName ?? hmacSecretName(name);
  const configHash = computeConfigHash(settings);
  const warnings: string[] = [];

  const selectorLabels: Labels = {
    "app.kubernetes.io/name": "tapfleet-sensor",
    "app.kubernetes.io/instance": name,
  };
  const labels: Labels = {
    ...options.labels,
    ...selectorLabels,
    "app.kubernetes.io/component": "capture",
    [PART_OF_LABEL]: PART_OF_VALUE,
    "app.kubernetes.io/managed-by": "tapfleet",
    "tapfleet.io/cluster-id": settings.clusterId,
  };
  const meta = (objectName: string, namespaced: boolean): ObjectMeta => ({
    name: objectName,
    ...(namespaced ? { namespace } : {}),
    labels: { ...labels },
  });

  const serviceAccount = renderServiceAccount({ metadata: meta(name, true) });
  const roleName = clusterRoleName({ namespace, name });
  const clusterRole = renderClusterRole({ metadata: meta(roleName, false) });
  const clusterRoleBinding = renderClusterRoleBinding({
    metadata: meta(roleName, false),
    serviceAccount: { name, namespace },
  });
  const secret =
    options.createSecret === false
      ? undefined
      : renderHmacSecret({ metadata: meta(secretName, true), hmacKey: settings.hmacKey });

  const storage = configFileStorage({ configPath: resolved.configPath, warnings });
  const caBundle = renderCaBundle({
    metadata: meta(`${name}-ca`, true),
    pem: options.caBundle,
    tlsCaFile: resolved.tlsCaFile,
    warnings,
  });
  if (caBundle !== undefined) {
    storage.volumes.push(caBundle.volume);
    storage.mounts.push(caBundle.mount);
  }

  const daemonSet = renderDaemonSet({
    metadata: meta(name, true),
    selectorLabels,
    podLabels: labels,
    settings,
    configHash,
    serviceAccountName: name,
    secretName,
    storage,
    image: options.image,
    imagePullPolicy: options.imagePullPolicy,
    captureMode: options.captureMode ?? "privileged",
    resources: options.resources,
    tolerations: options.tolerations,
    priorityClassName: options.priorityClassName,
    sidecars: options.sidecars,
    minReadySeconds: options.minReadySeconds,
  });

  const networkPolicy =
    options.networkPolicy?.enabled === true
      ? renderNetworkPolicy({
          settings,
          policy: options.networkPolicy,
          metadata: meta(name, true),
          selectorLabels,
          warnings,
        })
      : undefined;

  const objects: SensorManifests = {
    ...(options.createNamespace === false ? {} : { namespace: renderNamespace({ name: namespace, labels }) }),
    serviceAccount,
    clusterRole,
    clusterRoleBinding,
    ...(secret === undefined ? {} : { secret }),
    ...(caBundle === undefined ? {} : { caBundle: caBundle.configMap }),
    ...(networkPolicy === undefined ? {} : { networkPolicy }),
    daemonSet,
  };
  const list: KubeObject[] = [
    objects.namespace,
    serviceAccount,
    clusterRole,
    clusterRoleBinding,
    secret,
    objects.caBundle,
    networkPolicy,
    daemonSet,
  ].filter((object): object is NonNullable<typeof object> => object !== undefined);
  return { objects, list, configHash, warnings };
}
