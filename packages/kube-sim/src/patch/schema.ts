// Field knowledge for the kinds the simulator serves: which fields exist (for
// `fieldValidation=Strict`) and how lists merge (for strategic merge patch and
// server-side apply). Transcribed from the `patchStrategy`/`patchMergeKey` tags
// of k8s.io/api; a field missing here is treated as unknown by strict
// validation, so the tables err on the generous side.

/** How a field's value is shaped. Object schemas are lazy so types can recurse. */
export type FieldSchema =
  | { type: "scalar" }
  /** Free-form map (labels, data, resource quantities): never validated. */
  | { type: "map" }
  | { type: "object"; schema: () => TypeSchema }
  | {
      type: "list";
      /** Item schema; absent for lists of scalars. */
      item?: () => TypeSchema;
      /** Merge strategy in strategic merge patch; absent means the list is replaced whole. */
      mergeKey?: string;
      /** Lists of scalars that merge as sets (`finalizers`). */
      mergeScalars?: boolean;
    };

export interface TypeSchema {
  fields: Record<string, FieldSchema>;
}

const scalar: FieldSchema = { type: "scalar" };
const freeMap: FieldSchema = { type: "map" };
const obj = (schema: () => TypeSchema): FieldSchema => ({ type: "object", schema });
const atomicList = (item?: () => TypeSchema): FieldSchema =>
  item ? { type: "list", item } : { type: "list" };
const mergeList = (mergeKey: string, item: () => TypeSchema): FieldSchema => ({
  type: "list",
  item,
  mergeKey,
});
const scalars = (...names: string[]): Record<string, FieldSchema> =>
  Object.fromEntries(names.map((n) => [n, scalar]));
const t = (fields: Record<string, FieldSchema>): TypeSchema => ({ fields });

// ---- meta ----------------------------------------------------------------

const ownerReference = t(scalars("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"));
const managedFieldsEntry = t({
  ...scalars("manager", "operation", "apiVersion", "time", "fieldsType", "subresource"),
  fieldsV1: freeMap,
});

export const objectMeta: TypeSchema = t({
  ...scalars("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation"),
  ...scalars("creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"),
  labels: freeMap,
  annotations: freeMap,
  ownerReferences: mergeList("uid", () => ownerReference),
  finalizers: { type: "list", mergeScalars: true },
  managedFields: atomicList(() => managedFieldsEntry),
});

const labelSelectorRequirement = t({ ...scalars("key", "operator"), values: atomicList() });
const labelSelector = t({
  matchLabels: freeMap,
  matchExpressions: atomicList(() => labelSelectorRequirement),
});

// ---- pod spec --------------------------------------------------------------

const keySelector = t(scalars("name", "key", "optional"));
const fieldRef = t(scalars("apiVersion", "fieldPath"));
const resourceFieldRef = t(scalars("containerName", "resource", "divisor"));
const envVarSource = t({
  fieldRef: obj(() => fieldRef),
  resourceFieldRef: obj(() => resourceFieldRef),
  configMapKeyRef: obj(() => keySelector),
  secretKeyRef: obj(() => keySelector),
});
const envVar = t({ ...scalars("name", "value"), valueFrom: obj(() => envVarSource) });
const envFromSource = t({
  prefix: scalar,
  configMapRef: obj(() => t(scalars("name", "optional"))),
  secretRef: obj(() => t(scalars("name", "optional"))),
});
const containerPort = t(scalars("name", "hostPort", "containerPort", "protocol", "hostIP"));
const volumeMount = t(
  scalars("name", "readOnly", "recursiveReadOnly", "mountPath", "subPath", "mountPropagation", "subPathExpr"),
);
const volumeDevice = t(scalars("name", "devicePath"));
const resourceRequirements = t({
  limits: freeMap,
  requests: freeMap,
  claims: mergeList("name", () => t(scalars("name", "request"))),
});
const capabilities = t({ add: atomicList(), drop: atomicList() });
const seLinuxOptions = t(scalars("user", "role", "type", "level"));
const seccompProfile = t(scalars("type", "localhostProfile"));
const appArmorProfile = t(scalars("type", "localhostProfile"));
const windowsOptions = t(
  scalars("gmsaCredentialSpecName", "gmsaCredentialSpec", "runAsUserName", "hostProcess"),
);
const securityContext = t({
  capabilities: obj(() => capabilities),
  ...scalars("privileged", "runAsUser", "runAsGroup", "runAsNonRoot", "readOnlyRootFilesystem"),
  ...scalars("allowPrivilegeEscalation", "procMount"),
  seLinuxOptions: obj(() => seLinuxOptions),
  windowsOptions: obj(() => windowsOptions),
  seccompProfile: obj(() => seccompProfile),
  appArmorProfile: obj(() => appArmorProfile),
});
const podSecurityContext = t({
  seLinuxOptions: obj(() => seLinuxOptions),
  windowsOptions: obj(() => windowsOptions),
  ...scalars("runAsUser", "runAsGroup", "runAsNonRoot", "fsGroup", "fsGroupChangePolicy"),
  ...scalars("supplementalGroupsPolicy", "seLinuxChangePolicy"),
  supplementalGroups: atomicList(),
  sysctls: atomicList(() => t(scalars("name", "value"))),
  seccompProfile: obj(() => seccompProfile),
  appArmorProfile: obj(() => appArmorProfile),
});
const httpHeader = t(scalars("name", "value"));
const probeHandlerFields: Record<string, FieldSchema> = {
  exec: obj(() => t({ command: atomicList() })),
  httpGet: obj(() =>
    t({ ...scalars("path", "port", "host", "scheme"), httpHeaders: atomicList(() => httpHeader) }),
  ),
  tcpSocket: obj(() => t(scalars("port", "host"))),
  grpc: obj(() => t(scalars("port", "service"))),
};
const probe = t({
  ...probeHandlerFields,
  ...scalars(
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
  ),
  ...scalars("terminationGracePeriodSeconds"),
});
const lifecycleHandler = t({ ...probeHandlerFields, sleep: obj(() => t(scalars("seconds"))) });
const lifecycle = t({
  postStart: obj(() => lifecycleHandler),
  preStop: obj(() => lifecycleHandler),
  stopSignal: scalar,
});

export const container: TypeSchema = t({
  ...scalars(
    "name",
    "image",
    "workingDir",
    "imagePullPolicy",
    "terminationMessagePath",
    "terminationMessagePolicy",
  ),
  ...scalars("stdin", "stdinOnce", "tty", "restartPolicy"),
  command: atomicList(),
  args: atomicList(),
  ports: mergeList("containerPort", () => containerPort),
  envFrom: atomicList(() => envFromSource),
  env: mergeList("name", () => envVar),
  resources: obj(() => resourceRequirements),
  resizePolicy: atomicList(() => t(scalars("resourceName", "restartPolicy"))),
  volumeMounts: mergeList("mountPath", () => volumeMount),
  volumeDevices: mergeList("devicePath", () => volumeDevice),
  livenessProbe: obj(() => probe),
  readinessProbe: obj(() => probe),
  startupProbe: obj(() => probe),
  lifecycle: obj(() => lifecycle),
  securityContext: obj(() => securityContext),
});
const ephemeralContainer = t({ ...container.fields, targetContainerName: scalar });

const keyToPath = t(scalars("key", "path", "mode"));
const projectionSource = t({
  secret: obj(() => t({ ...scalars("name", "optional"), items: atomicList(() => keyToPath) })),
  configMap: obj(() => t({ ...scalars("name", "optional"), items: atomicList(() => keyToPath) })),
  downwardAPI: obj(() => downwardAPIVolume),
  serviceAccountToken: obj(() => t(scalars("audience", "expirationSeconds", "path"))),
  clusterTrustBundle: obj(() =>
    t({ ...scalars("name", "signerName", "optional", "path"), labelSelector: obj(() => labelSelector) }),
  ),
});
const downwardAPIVolume = t({
  defaultMode: scalar,
  items: atomicList(() =>
    t({
      path: scalar,
      mode: scalar,
      fieldRef: obj(() => fieldRef),
      resourceFieldRef: obj(() => resourceFieldRef),
    }),
  ),
});
const volume = t({
  name: scalar,
  hostPath: obj(() => t(scalars("path", "type"))),
  emptyDir: obj(() => t(scalars("medium", "sizeLimit"))),
  secret: obj(() =>
    t({ ...scalars("secretName", "defaultMode", "optional"), items: atomicList(() => keyToPath) }),
  ),
  configMap: obj(() =>
    t({ ...scalars("name", "defaultMode", "optional"), items: atomicList(() => keyToPath) }),
  ),
  persistentVolumeClaim: obj(() => t(scalars("claimName", "readOnly"))),
  downwardAPI: obj(() => downwardAPIVolume),
  projected: obj(() => t({ defaultMode: scalar, sources: atomicList(() => projectionSource) })),
  nfs: obj(() => t(scalars("server", "path", "readOnly"))),
  csi: obj(() =>
    t({
      ...scalars("driver", "readOnly", "fsType"),
      volumeAttributes: freeMap,
      nodePublishSecretRef: obj(() => t(scalars("name"))),
    }),
  ),
  ephemeral: obj(() => t({ volumeClaimTemplate: freeMap })),
  image: obj(() => t(scalars("reference", "pullPolicy"))),
});

const toleration = t(scalars("key", "operator", "value", "effect", "tolerationSeconds"));
const nodeSelectorRequirement = t({ ...scalars("key", "operator"), values: atomicList() });
const nodeSelectorTerm = t({
  matchExpressions: atomicList(() => nodeSelectorRequirement),
  matchFields: atomicList(() => nodeSelectorRequirement),
});
const podAffinityTerm = t({
  labelSelector: obj(() => labelSelector),
  namespaceSelector: obj(() => labelSelector),
  namespaces: atomicList(),
  topologyKey: scalar,
  matchLabelKeys: atomicList(),
  mismatchLabelKeys: atomicList(),
});
const podAffinity = t({
  requiredDuringSchedulingIgnoredDuringExecution: atomicList(() => podAffinityTerm),
  preferredDuringSchedulingIgnoredDuringExecution: atomicList(() =>
    t({ weight: scalar, podAffinityTerm: obj(() => podAffinityTerm) }),
  ),
});
const affinity = t({
  nodeAffinity: obj(() =>
    t({
      requiredDuringSchedulingIgnoredDuringExecution: obj(() =>
        t({ nodeSelectorTerms: atomicList(() => nodeSelectorTerm) }),
      ),
      preferredDuringSchedulingIgnoredDuringExecution: atomicList(() =>
        t({ weight: scalar, preference: obj(() => nodeSelectorTerm) }),
      ),
    }),
  ),
  podAffinity: obj(() => podAffinity),
  podAntiAffinity: obj(() => podAffinity),
});

export const podSpec: TypeSchema = t({
  volumes: mergeList("name", () => volume),
  initContainers: mergeList("name", () => container),
  containers: mergeList("name", () => container),
  ephemeralContainers: mergeList("name", () => ephemeralContainer),
  ...scalars("restartPolicy", "terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy"),
  nodeSelector: freeMap,
  ...scalars("serviceAccountName", "serviceAccount", "automountServiceAccountToken", "nodeName"),
  ...scalars("hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace", "hostUsers"),
  securityContext: obj(() => podSecurityContext),
  imagePullSecrets: mergeList("name", () => t(scalars("name"))),
  ...scalars("hostname", "subdomain", "setHostnameAsFQDN", "schedulerName", "priorityClassName", "priority"),
  affinity: obj(() => affinity),
  tolerations: atomicList(() => toleration),
  hostAliases: mergeList("ip", () => t({ ip: scalar, hostnames: atomicList() })),
  dnsConfig: obj(() =>
    t({
      nameservers: atomicList(),
      searches: atomicList(),
      options: atomicList(() => t(scalars("name", "value"))),
    }),
  ),
  readinessGates: atomicList(() => t(scalars("conditionType"))),
  ...scalars("runtimeClassName", "enableServiceLinks", "preemptionPolicy"),
  overhead: freeMap,
  topologySpreadConstraints: mergeList("topologyKey", () =>
    t({
      ...scalars(
        "maxSkew",
        "topologyKey",
        "whenUnsatisfiable",
        "minDomains",
        "nodeAffinityPolicy",
        "nodeTaintsPolicy",
      ),
      labelSelector: obj(() => labelSelector),
      matchLabelKeys: atomicList(),
    }),
  ),
  os: obj(() => t(scalars("name"))),
  schedulingGates: mergeList("name", () => t(scalars("name"))),
  resourceClaims: mergeList("name", () =>
    t(scalars("name", "resourceClaimName", "resourceClaimTemplateName")),
  ),
  resources: obj(() => resourceRequirements),
});

const condition = t(
  scalars(
    "type",
    "status",
    "observedGeneration",
    "lastProbeTime",
    "lastTransitionTime",
    "lastHeartbeatTime",
    "reason",
    "message",
  ),
);
const containerStateFields = t({
  waiting: obj(() => t(scalars("reason", "message"))),
  running: obj(() => t(scalars("startedAt"))),
  terminated: obj(() =>
    t(scalars("exitCode", "signal", "reason", "message", "startedAt", "finishedAt", "containerID")),
  ),
});
const containerStatus = t({
  ...scalars("name", "ready", "restartCount", "image", "imageID", "containerID", "started", "stopSignal"),
  state: obj(() => containerStateFields),
  lastState: obj(() => containerStateFields),
  allocatedResources: freeMap,
  resources: obj(() => resourceRequirements),
  volumeMounts: atomicList(() => volumeMount),
  user: freeMap,
  allocatedResourcesStatus: atomicList(() =>
    t({ name: scalar, resources: atomicList(() => t(scalars("resourceID", "health"))) }),
  ),
});
const podStatus = t({
  ...scalars(
    "observedGeneration",
    "phase",
    "message",
    "reason",
    "nominatedNodeName",
    "hostIP",
    "podIP",
    "startTime",
  ),
  ...scalars("qosClass", "resize"),
  conditions: mergeList("type", () => condition),
  hostIPs: mergeList("ip", () => t(scalars("ip"))),
  podIPs: mergeList("ip", () => t(scalars("ip"))),
  initContainerStatuses: atomicList(() => containerStatus),
  containerStatuses: atomicList(() => containerStatus),
  ephemeralContainerStatuses: atomicList(() => containerStatus),
  resourceClaimStatuses: mergeList("name", () => t(scalars("name", "resourceClaimName"))),
});

const podTemplateSpec = t({ metadata: obj(() => objectMeta), spec: obj(() => podSpec) });

// ---- workloads -----------------------------------------------------------

const daemonSetSpec = t({
  selector: obj(() => labelSelector),
  template: obj(() => podTemplateSpec),
  // DaemonSetUpdateStrategy carries `patchStrategy:"retainKeys"`; kubectl sends `$retainKeys`.
  updateStrategy: obj(() =>
    t({ type: scalar, rollingUpdate: obj(() => t(scalars("maxUnavailable", "maxSurge"))) }),
  ),
  ...scalars("minReadySeconds", "revisionHistoryLimit"),
});
const daemonSetStatus = t({
  ...scalars("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"),
  ...scalars(
    "observedGeneration",
    "updatedNumberScheduled",
    "numberAvailable",
    "numberUnavailable",
    "collisionCount",
  ),
  conditions: mergeList("type", () => condition),
});

// ---- nodes -------------------------------------------------------------------

const taint = t(scalars("key", "value", "effect", "timeAdded"));
const nodeSpec = t({
  ...scalars("podCIDR", "providerID", "unschedulable", "externalID"),
  podCIDRs: { type: "list", mergeScalars: true },
  taints: atomicList(() => taint),
  configSource: freeMap,
});
const nodeStatus = t({
  capacity: freeMap,
  allocatable: freeMap,
  phase: scalar,
  conditions: mergeList("type", () => condition),
  addresses: mergeList("type", () => t(scalars("type", "address"))),
  daemonEndpoints: freeMap,
  nodeInfo: obj(() =>
    t(
      scalars(
        "machineID",
        "systemUUID",
        "bootID",
        "kernelVersion",
        "osImage",
        "containerRuntimeVersion",
        "kubeletVersion",
        "kubeProxyVersion",
        "operatingSystem",
        "architecture",
      ),
    ),
  ),
  images: atomicList(() => t({ names: atomicList(), sizeBytes: scalar })),
  volumesInUse: atomicList(),
  volumesAttached: atomicList(() => t(scalars("name", "devicePath"))),
  config: freeMap,
  runtimeHandlers: atomicList(() => t({ name: scalar, features: freeMap })),
  features: freeMap,
  declaredFeatures: atomicList(),
});

// ---- RBAC, config, networking, misc -------------------------------------------

const policyRule = t({
  verbs: atomicList(),
  apiGroups: atomicList(),
  resources: atomicList(),
  resourceNames: atomicList(),
  nonResourceURLs: atomicList(),
});
const subject = t(scalars("kind", "apiGroup", "name", "namespace"));
const roleRef = t(scalars("apiGroup", "kind", "name"));

const networkPolicyPort = t(scalars("protocol", "port", "endPort"));
const networkPolicyPeer = t({
  podSelector: obj(() => labelSelector),
  namespaceSelector: obj(() => labelSelector),
  ipBlock: obj(() => t({ cidr: scalar, except: atomicList() })),
});
const networkPolicySpec = t({
  podSelector: obj(() => labelSelector),
  ingress: atomicList(() =>
    t({ ports: atomicList(() => networkPolicyPort), from: atomicList(() => networkPolicyPeer) }),
  ),
  egress: atomicList(() =>
    t({ ports: atomicList(() => networkPolicyPort), to: atomicList(() => networkPolicyPeer) }),
  ),
  policyTypes: atomicList(),
});

const servicePort = t(scalars("name", "protocol", "appProtocol", "port", "targetPort", "nodePort"));
const serviceSpec = t({
  ports: mergeList("port", () => servicePort),
  selector: freeMap,
  ...scalars(
    "clusterIP",
    "type",
    "externalName",
    "sessionAffinity",
    "loadBalancerIP",
    "externalTrafficPolicy",
  ),
  ...scalars(
    "healthCheckNodePort",
    "publishNotReadyAddresses",
    "ipFamilyPolicy",
    "allocateLoadBalancerNodePorts",
  ),
  ...scalars("loadBalancerClass", "internalTrafficPolicy", "trafficDistribution"),
  clusterIPs: atomicList(),
  externalIPs: atomicList(),
  loadBalancerSourceRanges: atomicList(),
  ipFamilies: atomicList(),
  sessionAffinityConfig: freeMap,
});

const objectReference = t(
  scalars("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"),
);

// ---- roots ------------------------------------------------------------------

const root = (fields: Record<string, FieldSchema>): TypeSchema =>
  t({ apiVersion: scalar, kind: scalar, metadata: obj(() => objectMeta), ...fields });

/** Root schemas by kind. Kinds missing here are not validated and merge without list keys. */
export const KIND_SCHEMAS: Record<string, TypeSchema> = {
  Pod: root({ spec: obj(() => podSpec), status: obj(() => podStatus) }),
  DaemonSet: root({ spec: obj(() => daemonSetSpec), status: obj(() => daemonSetStatus) }),
  Node: root({ spec: obj(() => nodeSpec), status: obj(() => nodeStatus) }),
  Namespace: root({
    spec: obj(() => t({ finalizers: atomicList() })),
    status: obj(() => t({ phase: scalar, conditions: mergeList("type", () => condition) })),
  }),
  ServiceAccount: root({
    secrets: mergeList("name", () => objectReference),
    imagePullSecrets: atomicList(() => t(scalars("name"))),
    automountServiceAccountToken: scalar,
  }),
  Secret: root({ data: freeMap, stringData: freeMap, type: scalar, immutable: scalar }),
  ConfigMap: root({ data: freeMap, binaryData: freeMap, immutable: scalar }),
  Service: root({ spec: obj(() => serviceSpec), status: freeMap }),
  ClusterRole: root({
    rules: atomicList(() => policyRule),
    aggregationRule: obj(() => t({ clusterRoleSelectors: atomicList(() => labelSelector) })),
  }),
  Role: root({ rules: atomicList(() => policyRule) }),
  ClusterRoleBinding: root({ subjects: atomicList(() => subject), roleRef: obj(() => roleRef) }),
  RoleBinding: root({ subjects: atomicList(() => subject), roleRef: obj(() => roleRef) }),
  NetworkPolicy: root({ spec: obj(() => networkPolicySpec), status: freeMap }),
  ControllerRevision: root({ data: freeMap, revision: scalar }),
  Event: root({
    involvedObject: obj(() => objectReference),
    ...scalars("reason", "message", "firstTimestamp", "lastTimestamp", "count", "type", "eventTime"),
    ...scalars("action", "reportingComponent", "reportingInstance"),
    source: obj(() => t(scalars("component", "host"))),
    series: freeMap,
    related: obj(() => objectReference),
  }),
  Lease: root({
    spec: obj(() =>
      t(
        scalars(
          "holderIdentity",
          "leaseDurationSeconds",
          "acquireTime",
          "renewTime",
          "leaseTransitions",
          "strategy",
          "preferredHolder",
        ),
      ),
    ),
  }),
};

/** Looks up a field of an object schema; `undefined` when the schema or the field is unknown. */
export function fieldOf(schema: TypeSchema | undefined, name: string): FieldSchema | undefined {
  return schema?.fields[name];
}
