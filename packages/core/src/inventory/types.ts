// The inputs of the inventory and coverage rules: Kubernetes objects trimmed to
// the fields the rules read, as plain data (strings, numbers, booleans, ISO
// timestamps) so they survive JSON (persisted snapshots, live topics) unchanged.
// The informer produces them; nothing here reads a cluster.

/** A taint effect; only NoSchedule and NoExecute keep a DaemonSet pod off a node. */
export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

/** node.spec.taints[] */
export interface InventoryTaint {
  key: string;
  /** Absent and "" mean the same. */
  value?: string;
  effect: TaintEffect;
}

/** pod.spec.tolerations[] (tolerationSeconds does not matter for placement). */
export interface InventoryToleration {
  /** Empty or absent with operator Exists tolerates every taint. */
  key?: string;
  /** Absent means Equal. */
  operator?: "Exists" | "Equal";
  value?: string;
  /** Empty or absent matches every effect. */
  effect?: TaintEffect | "";
}

/** One requirement of a node selector term (matchExpressions or matchFields). */
export interface NodeSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";
  values?: string[];
}

/** One term of requiredDuringSchedulingIgnoredDuringExecution: its requirements are ANDed. */
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  /** Kubernetes supports only `metadata.name` with In / NotIn and one value. */
  matchFields?: NodeSelectorRequirement[];
}

/** A node condition (only Ready is kept). */
export interface InventoryCondition {
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  /** ISO timestamp. */
  lastTransitionTime?: string;
}

/** A Node, trimmed. */
export interface InventoryNode {
  name: string;
  labels: Record<string, string>;
  taints: InventoryTaint[];
  /** spec.unschedulable (cordoned); DaemonSet pods still run there. */
  unschedulable: boolean;
  /** status.conditions[type=Ready]; null when the kubelet never posted one. */
  ready: InventoryCondition | null;
  /** ISO timestamp. */
  createdAt?: string;
}

/** A sensor DaemonSet, trimmed to its identity and the pod template's placement rules. */
export interface InventoryDaemonSet {
  namespace: string;
  name: string;
  /** spec.template.spec.nodeSelector ({} when unset). */
  nodeSelector: Record<string, string>;
  /** spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms; null when unset. */
  requiredNodeAffinity: NodeSelectorTerm[] | null;
  /** spec.template.spec.tolerations, as written (the controller's defaults are added by the rules). */
  tolerations: InventoryToleration[];
  /** spec.template.spec.hostNetwork */
  hostNetwork: boolean;
  /** spec.template.spec.nodeName, when the template pins its pods to one node. */
  nodeName?: string;
  /** The agents' report interval from the template (TAPFLEET_REPORT_INTERVAL); null for the agent's default. */
  reportIntervalSeconds: number | null;
  /** ISO timestamp. */
  createdAt?: string;
}

/** A container's state: exactly one of the three is set (none while the kubelet has not reported). */
export interface InventoryContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: {
    exitCode: number;
    reason?: string;
    message?: string;
    startedAt?: string;
    finishedAt?: string;
  };
}

/** status.containerStatuses[] */
export interface InventoryContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state: InventoryContainerState;
  lastState: InventoryContainerState;
}

/** A pod of a sensor DaemonSet, trimmed. */
export interface InventoryPod {
  namespace: string;
  name: string;
  /** The controlling DaemonSet's name (same namespace); null for a pod no DaemonSet controls. */
  daemonSet: string | null;
  /**
   * The node the pod is bound to (spec.nodeName) or, before binding, the node its
   * DaemonSet pinned it to (the `metadata.name In [node]` required affinity); null if neither.
   */
  nodeName: string | null;
  phase: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
  /** status.reason, e.g. "Evicted". */
  reason?: string;
  message?: string;
  /** ISO timestamps. */
  createdAt: string;
  deletedAt?: string;
  /** status.conditions[type=PodScheduled]; null when absent. */
  scheduled: InventoryCondition | null;
  /** status.conditions[type=Ready]; null when absent. */
  ready: InventoryCondition | null;
  containerStatuses: InventoryContainerStatus[];
}

/** The newest report of one agent, joined to its pod by cluster, node and pod name. */
export interface AgentReportSeen {
  clusterId: string;
  nodeName: string;
  podName: string;
  /** ISO timestamp: when the server received the report. */
  receivedAt: string;
  /** The interval the report announced; null for older agents (the default applies). */
  reportIntervalSeconds: number | null;
}
