// The Kubernetes objects a cluster needs for the sensor, as typed objects and
// as YAML: Namespace, ServiceAccount, ClusterRole + binding (read-only, on
// exactly what the agent reads), the Secret holding the HMAC key, an optional
// CA bundle ConfigMap, an optional NetworkPolicy, and the DaemonSet.
//
// Security choices follow the Soveren seed: hostNetwork with
// ClusterFirstWithHostNet, uid 1000 non-root for every container except the
// capture container, and capture either `privileged` (the seed's way, the
// default) or with only the capabilities libpcap needs (`captureMode:
// "capabilities"`, stricter). The key reaches the pod only via secretKeyRef.

import { stringify } from "yaml";
import { CONFIG_HASH_ANNOTATION, computeConfigHash } from "./config-hash.ts";
import {
  DOWNWARD_API_VARIABLES,
  ZSensorSettingsSchema,
  isIpv4,
  isIpv6,
  renderSensorEnv,
  resolveSensorSettings,
  type SensorSettings,
} from "./settings.ts";

// ---------------------------------------------------------------------------
// Types: the subset of the Kubernetes API these objects use.

export type Labels = Record<string, string>;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

export interface Namespace extends KubeObject {
  apiVersion: "v1";
  kind: "Namespace";
}

export interface ServiceAccount extends KubeObject {
  apiVersion: "v1";
  kind: "ServiceAccount";
  automountServiceAccountToken?: boolean;
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: Array<"get" | "list" | "watch">;
}

export interface ClusterRole extends KubeObject {
  apiVersion: "rbac.authorization.k8s.io/v1";
  kind: "ClusterRole";
  rules: PolicyRule[];
}

export interface ClusterRoleBinding extends KubeObject {
  apiVersion: "rbac.authorization.k8s.io/v1";
  kind: "ClusterRoleBinding";
  roleRef: { apiGroup: "rbac.authorization.k8s.io"; kind: "ClusterRole"; name: string };
  subjects: Array<{ kind: "ServiceAccount"; name: string; namespace: string }>;
}

export interface Secret extends KubeObject {
  apiVersion: "v1";
  kind: "Secret";
  type: "Opaque";
  data: Record<string, string>;
}

export interface ConfigMap extends KubeObject {
  apiVersion: "v1";
  kind: "ConfigMap";
  data: Record<string, string>;
}

export type EnvVar =
  | { name: string; value: string }
  | { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }
  | { name: string; valueFrom: { fieldRef: { fieldPath: string } } };

export interface SecurityContext {
  privileged?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: "RuntimeDefault" | "Unconfined" };
}

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  args?: string[];
  env?: EnvVar[];
  securityContext?: SecurityContext;
  resources?: ResourceRequirements;
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string; readOnly?: boolean }>;
}

export type Volume =
  { name: string; emptyDir: Record<string, never> } | { name: string; configMap: { name: string } };

export interface Toleration {
  operator: "Exists" | "Equal";
  key?: string;
  value?: string;
  effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface DaemonSet extends KubeObject {
  apiVersion: "apps/v1";
  kind: "DaemonSet";
  spec: {
    selector: { matchLabels: Labels };
    updateStrategy: { type: "RollingUpdate"; rollingUpdate: { maxUnavailable: number | string } };
    template: {
      metadata: { labels: Labels; annotations: Record<string, string> };
      spec: {
        serviceAccountName: string;
        automountServiceAccountToken: boolean;
        hostNetwork: true;
        hostPID: false;
        dnsPolicy: "ClusterFirstWithHostNet";
        priorityClassName?: string;
        terminationGracePeriodSeconds: number;
        securityContext: { seccompProfile: { type: "RuntimeDefault" } };
        tolerations: Toleration[];
        containers: Container[];
        volumes: Volume[];
      };
    };
  };
}

export interface NetworkPolicyPeer {
  ipBlock?: { cidr: string };
  namespaceSelector?: { matchLabels: Labels };
  podSelector?: { matchLabels: Labels };
}

export interface NetworkPolicyEgressRule {
  to?: NetworkPolicyPeer[];
  ports: Array<{ protocol: "TCP" | "UDP"; port: number }>;
}

export interface NetworkPolicy extends KubeObject {
  apiVersion: "networking.k8s.io/v1";
  kind: "NetworkPolicy";
  spec: {
    podSelector: { matchLabels: Labels };
    policyTypes: Array<"Ingress" | "Egress">;
    ingress: [];
    egress: NetworkPolicyEgressRule[];
  };
}

// ---------------------------------------------------------------------------
// Constants the agent and the server share.

/**
 * Everything the agent reads from the Kubernetes API, and so everything its
 * ClusterRole grants: pods (to attribute interfaces and talkers on its node to
 * pods) and nodes (to attribute host-network addresses). Read-only verbs only;
 * the agent writes nothing to the API. Reading anything else gets a 403.
 */
export const AGENT_RBAC_RULES: readonly PolicyRule[] = [
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
];

export const CAPTURE_CONTAINER_NAME = "capture";
export const HMAC_SECRET_KEY = "hmac-key";
export const CA_BUNDLE_KEY = "ca.pem";
export const DEFAULT_NAMESPACE = "tapfleet-sensor";
export const DEFAULT_NAME = "tapfleet-sensor";

/**
 * What a capture needs without `privileged`: NET_RAW opens AF_PACKET sockets,
 * NET_ADMIN puts interfaces into promiscuous mode. Linux does not give added
 * capabilities to a non-root process (Kubernetes sets no ambient set), so the
 * capture container stays uid 0 in this mode too.
 */
export const CAPTURE_CAPABILITIES = ["NET_RAW", "NET_ADMIN"] as const;

/** The seed's context for every container but capture (uid/gid 1000), plus dropping all capabilities. */
export function nonRootSecurityContext(): SecurityContext {
  return {
    runAsUser: 1000,
    runAsGroup: 1000,
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
  };
}

export type CaptureMode = "privileged" | "capabilities";

export function captureSecurityContext(mode: CaptureMode, readOnlyRootFilesystem: boolean): SecurityContext {
  if (mode === "privileged") {
    // As in the seed. allowPrivilegeEscalation cannot be false with privileged: true (API validation).
    return { privileged: true, runAsUser: 0, runAsNonRoot: false, readOnlyRootFilesystem };
  }
  return {
    privileged: false,
    runAsUser: 0,
    runAsNonRoot: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem,
    capabilities: { drop: ["ALL"], add: [...CAPTURE_CAPABILITIES] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

// ---------------------------------------------------------------------------
// Rendering

export interface NetworkPolicyOptions {
  enabled: boolean;
  /** Where the collector (VSENSOR_HOSTNAME) is, when it is a host name; an IP address needs nothing. */
  collectorCidrs?: string[];
  /** Where the proxy is, when HTTPS_PROXY names it by host name. */
  proxyCidrs?: string[];
  /** The API server's addresses and port as the pod sees them after Service NAT (443 on most managed clusters, 6443 on kubeadm). */
  apiServer?: { cidrs?: string[]; port?: number };
  /** DNS server pods, for host names. Default: kube-system pods labelled k8s-app=kube-dns. */
  dns?: { namespace: string; podLabels: Labels } | false;
}

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

const DEFAULT_RESOURCES: ResourceRequirements = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { memory: "512Mi" },
};

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

function hostCidr(host: string): string | undefined {
  if (isIpv4(host)) return `${host}/32`;
  if (isIpv6(host)) return `${host}/128`;
  return undefined;
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
  if (options.image.trim() === "" || /\s/.test(options.image))
    throw new Error("renderSensorManifests: image must be a non-empty image reference");
  const resolved = resolveSensorSettings(settings);
  const captureMode = options.captureMode ?? "privileged";
  const secretName = options.secretName ?? `${name}-hmac`;
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
    "app.kubernetes.io/part-of": "tapfleet",
    "app.kubernetes.io/managed-by": "tapfleet",
    "tapfleet.io/cluster-id": settings.clusterId,
  };
  const meta = (objectName: string, namespaced: boolean): ObjectMeta => ({
    name: objectName,
    ...(namespaced ? { namespace } : {}),
    labels: { ...labels },
  });

  // --- RBAC. Cluster-scoped names carry the namespace so two installs cannot collide.
  const serviceAccount: ServiceAccount = {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: meta(name, true),
    automountServiceAccountToken: false,
  };
  const clusterRoleName = `${namespace}:${name}`;
  const clusterRole: ClusterRole = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: meta(clusterRoleName, false),
    rules: AGENT_RBAC_RULES.map((rule) => ({
      apiGroups: [...rule.apiGroups],
      resources: [...rule.resources],
      verbs: [...rule.verbs],
    })),
  };
  const clusterRoleBinding: ClusterRoleBinding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: meta(clusterRoleName, false),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRoleName },
    subjects: [{ kind: "ServiceAccount", name, namespace }],
  };

  const secret: Secret | undefined =
    options.createSecret === false
      ? undefined
      : {
          apiVersion: "v1",
          kind: "Secret",
          metadata: meta(secretName, true),
          type: "Opaque",
          data: { [HMAC_SECRET_KEY]: base64(settings.hmacKey) },
        };

  // --- Volumes: the generated config file's directory (so the root filesystem
  // can be read-only) and the CA bundle.
  const volumes: Volume[] = [];
  const mounts: NonNullable<Container["volumeMounts"]> = [];
  const configDirectory = dirname(resolved.configPath);
  let readOnlyRootFilesystem = true;
  if (configDirectory.split("/").filter(Boolean).length >= 2) {
    volumes.push({ name: "config", emptyDir: {} });
    mounts.push({ name: "config", mountPath: configDirectory });
  } else {
    // Mounting an emptyDir over /etc or / would hide the image's files.
    readOnlyRootFilesystem = false;
    warnings.push(
      `OSSENSOR_CONFIG_PATH: ${resolved.configPath} is in a top-level directory, so the capture container's root filesystem stays writable`,
    );
  }
  let caBundle: ConfigMap | undefined;
  if (options.caBundle !== undefined) {
    if (resolved.tlsCaFile === undefined) {
      warnings.push("caBundle is ignored: VSENSOR_TLS_CA_FILE is not set, so the agent would not read it");
    } else {
      caBundle = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta(`${name}-ca`, true),
        data: { [CA_BUNDLE_KEY]: options.caBundle },
      };
      volumes.push({ name: "ca", configMap: { name: `${name}-ca` } });
      mounts.push({ name: "ca", mountPath: resolved.tlsCaFile, subPath: CA_BUNDLE_KEY, readOnly: true });
    }
  } else if (resolved.tlsCaFile !== undefined) {
    warnings.push(
      `VSENSOR_TLS_CA_FILE: ${resolved.tlsCaFile} must exist in the image, or pass caBundle to mount it`,
    );
  }

  // --- Env: settings in table order, the key from the Secret, identity from the downward API.
  const env: EnvVar[] = Object.entries(renderSensorEnv(settings)).map(([variable, value]) =>
    variable === "VSENSOR_HMAC_KEY"
      ? { name: variable, valueFrom: { secretKeyRef: { name: secretName, key: HMAC_SECRET_KEY } } }
      : { name: variable, value },
  );
  for (const [variable, fieldPath] of Object.entries(DOWNWARD_API_VARIABLES))
    env.push({ name: variable, valueFrom: { fieldRef: { fieldPath } } });

  const capture: Container = {
    name: CAPTURE_CONTAINER_NAME,
    image: options.image,
    ...(options.imagePullPolicy === undefined ? {} : { imagePullPolicy: options.imagePullPolicy }),
    env,
    securityContext: captureSecurityContext(captureMode, readOnlyRootFilesystem),
    resources: options.resources ?? DEFAULT_RESOURCES,
    volumeMounts: mounts,
  };
  const sidecars: Container[] = (options.sidecars ?? []).map((sidecar) => {
    if (sidecar.name === CAPTURE_CONTAINER_NAME)
      throw new Error(`renderSensorManifests: a sidecar cannot be named ${CAPTURE_CONTAINER_NAME}`);
    return { ...sidecar, securityContext: nonRootSecurityContext() };
  });

  const annotations = { [CONFIG_HASH_ANNOTATION]: configHash };
  const daemonSet: DaemonSet = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { ...meta(name, true), annotations: { ...annotations } },
    spec: {
      selector: { matchLabels: { ...selectorLabels } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        // The hash on the pod template is what rolls the pods when the Secret's key changes.
        metadata: { labels: { ...labels }, annotations: { ...annotations } },
        spec: {
          serviceAccountName: name,
          // The ServiceAccount opts out of automounting; this pod opts in because the agent reads the API.
          automountServiceAccountToken: true,
          hostNetwork: true,
          hostPID: false,
          dnsPolicy: "ClusterFirstWithHostNet",
          ...(options.priorityClassName === undefined
            ? {}
            : { priorityClassName: options.priorityClassName }),
          terminationGracePeriodSeconds: 30,
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          // A sensor belongs on every node, tainted ones included.
          tolerations: options.tolerations ?? [{ operator: "Exists" }],
          containers: [capture, ...sidecars],
          volumes,
        },
      },
    },
  };

  const networkPolicy =
    options.networkPolicy?.enabled === true
      ? renderNetworkPolicy(settings, options.networkPolicy, meta(name, true), selectorLabels, warnings)
      : undefined;

  const objects: SensorManifests = {
    ...(options.createNamespace === false
      ? {}
      : {
          namespace: {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: namespace, labels: { ...labels } },
          } satisfies Namespace,
        }),
    serviceAccount,
    clusterRole,
    clusterRoleBinding,
    ...(secret === undefined ? {} : { secret }),
    ...(caBundle === undefined ? {} : { caBundle }),
    ...(networkPolicy === undefined ? {} : { networkPolicy }),
    daemonSet,
  };
  const list: KubeObject[] = [
    objects.namespace,
    serviceAccount,
    clusterRole,
    clusterRoleBinding,
    secret,
    caBundle,
    networkPolicy,
    daemonSet,
  ].filter((object): object is NonNullable<typeof object> => object !== undefined);
  return { objects, list, configHash, warnings };
}

function proxyTarget(proxy: string): { host: string; port: number } {
  const url = new URL(proxy);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port) };
}

function ipv4Number(address: string): number {
  return address.split(".").reduce((total, part) => total * 256 + Number(part), 0);
}

/** Does NO_PROXY send `host` direct? Go's rules: "*", exact host, domain suffix (with or without a leading "." or "*."), IPv4 CIDR. */
export function bypassesProxy(host: string, noProxy: readonly string[]): boolean {
  return noProxy.some((entry) => {
    const bare = entry.startsWith("[")
      ? entry.replace(/^\[(.*)\](:[0-9]+)?$/, "$1")
      : entry.split(":").length === 2
        ? entry.replace(/:[0-9]+$/, "")
        : entry;
    if (bare === "*" || bare === host) return true;
    const cidr = /^([0-9.]+)\/([0-9]+)$/.exec(bare);
    if (cidr !== null) {
      if (!isIpv4(host) || !isIpv4(cidr[1] ?? "")) return false;
      const bits = Number(cidr[2]);
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      return (ipv4Number(host) & mask) >>> 0 === (ipv4Number(cidr[1] ?? "") & mask) >>> 0;
    }
    if (isIpv4(host) || isIpv6(host)) return false;
    return host.endsWith(`.${bare.replace(/^\*?\./, "")}`);
  });
}

/**
 * Egress to the collector (or the proxy), to the Kubernetes API, and to DNS
 * when a host name must be resolved; no ingress. Note: most CNI plugins do not
 * apply NetworkPolicy to hostNetwork pods, which the sensor is.
 */
function renderNetworkPolicy(
  settings: SensorSettings,
  options: NetworkPolicyOptions,
  metadata: ObjectMeta,
  selector: Labels,
  warnings: string[],
): NetworkPolicy {
  const resolved = resolveSensorSettings(settings);
  const egress: NetworkPolicyEgressRule[] = [];
  let needsDns = false;
  warnings.push(
    "networkPolicy: the sensor uses hostNetwork, and most CNI plugins do not enforce NetworkPolicy on host-network pods; check yours (Calico host endpoints, Cilium host policies)",
  );

  const destinations: Array<{ what: string; host: string; port: number; cidrs: string[] | undefined }> = [];
  const collector = {
    what: "collector",
    host: resolved.collectorHost,
    port: resolved.collectorPort,
    cidrs: options.collectorCidrs,
  };
  if (resolved.httpsProxy === undefined) {
    destinations.push(collector);
  } else {
    const proxy = proxyTarget(resolved.httpsProxy);
    destinations.push({ what: "proxy", ...proxy, cidrs: options.proxyCidrs });
    if (bypassesProxy(resolved.collectorHost, resolved.noProxy)) destinations.push(collector);
  }
  for (const destination of destinations) {
    const cidrs =
      destination.cidrs ?? [hostCidr(destination.host)].filter((cidr): cidr is string => cidr !== undefined);
    if (hostCidr(destination.host) === undefined) needsDns = true;
    if (cidrs.length === 0) {
      warnings.push(
        `networkPolicy: the ${destination.what} ${destination.host} is a host name; without ${destination.what}Cidrs egress to port ${destination.port} is allowed to any address`,
      );
      egress.push({ ports: [{ protocol: "TCP", port: destination.port }] });
    } else {
      egress.push({
        to: cidrs.map((cidr) => ({ ipBlock: { cidr } })),
        ports: [{ protocol: "TCP", port: destination.port }],
      });
    }
  }

  const apiPort = options.apiServer?.port ?? 443;
  const apiCidrs = options.apiServer?.cidrs ?? [];
  if (apiCidrs.length === 0)
    warnings.push(
      `networkPolicy: without apiServer.cidrs egress to port ${apiPort} is allowed to any address`,
    );
  egress.push({
    ...(apiCidrs.length === 0 ? {} : { to: apiCidrs.map((cidr) => ({ ipBlock: { cidr } })) }),
    ports: [{ protocol: "TCP", port: apiPort }],
  });

  if (needsDns && options.dns !== false) {
    const dns = options.dns ?? { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } };
    egress.push({
      to: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": dns.namespace } },
          podSelector: { matchLabels: { ...dns.podLabels } },
        },
      ],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    });
  }
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata,
    spec: {
      podSelector: { matchLabels: { ...selector } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress,
    },
  };
}

/**
 * Multi-document YAML, one object per document. Written as YAML 1.1 so that
 * strings such as "on", "yes" or "0" are quoted: kubectl reads YAML 1.1, where
 * they would turn into booleans and numbers and break string fields like env values.
 */
export function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((object) => stringify(object, { version: "1.1", lineWidth: 0 })).join("---\n");
}
