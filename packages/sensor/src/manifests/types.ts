// The subset of the Kubernetes API the sensor's objects use, as types.

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
  readinessProbe?: Probe;
  terminationMessagePolicy?: "File" | "FallbackToLogsOnError";
}

export interface Probe {
  exec: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
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
    minReadySeconds: number;
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
