// From packages/kube's trimmed objects (what the informers keep) to the
// inventory's input types (what the coverage rules read). The one place where
// the two vocabularies meet: Kubernetes strings become the rules' unions, and
// values the rules do not know are dropped here rather than guessed later.

import type { Condition, KubeDaemonSet, KubeNode, KubePod, ContainerState } from "@tapfleet/kube";
import { REPORT_INTERVAL_SECONDS, sensorVariableFor } from "@tapfleet/sensor/settings";
import type {
  InventoryCondition,
  InventoryContainerState,
  InventoryDaemonSet,
  InventoryNode,
  InventoryPod,
  InventoryTaint,
  InventoryToleration,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  TaintEffect,
} from "../types.ts";
import { inventoryObjectKey } from "../inventory.ts";
import type { DaemonSetStatus } from "./topic.ts";

const TAINT_EFFECTS: ReadonlySet<string> = new Set(["NoSchedule", "PreferNoSchedule", "NoExecute"]);
const CONDITION_STATUSES: ReadonlySet<string> = new Set(["True", "False", "Unknown"]);
const POD_PHASES: ReadonlySet<string> = new Set(["Pending", "Running", "Succeeded", "Failed", "Unknown"]);
const REQUIREMENT_OPERATORS: ReadonlySet<string> = new Set([
  "In",
  "NotIn",
  "Exists",
  "DoesNotExist",
  "Gt",
  "Lt",
]);

/** The variable that sets the agent's report interval (TAPFLEET_REPORT_INTERVAL). */
export const REPORT_INTERVAL_VARIABLE = sensorVariableFor("reportIntervalSeconds");

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function mapCondition(condition: Condition | undefined): InventoryCondition | null {
  if (!condition) return null;
  return {
    // A status Kubernetes does not define counts as Unknown: the node is then not ready.
    status: (CONDITION_STATUSES.has(condition.status)
      ? condition.status
      : "Unknown") as InventoryCondition["status"],
    ...optional("reason", condition.reason),
    ...optional("message", condition.message),
    ...optional("lastTransitionTime", condition.lastTransitionTime),
  };
}

export function inventoryNodeFromKube(node: KubeNode): InventoryNode {
  return {
    name: node.name,
    labels: node.labels,
    taints: node.taints
      // An effect the rules do not know cannot keep a pod off the node.
      .filter((taint) => TAINT_EFFECTS.has(taint.effect))
      .map((taint): InventoryTaint => ({
        key: taint.key,
        ...optional("value", taint.value),
        effect: taint.effect as TaintEffect,
      })),
    unschedulable: node.unschedulable,
    ready: mapCondition(node.ready),
  };
}

function mapRequirement(raw: unknown): NodeSelectorRequirement | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.key !== "string" || typeof r.operator !== "string") return undefined;
  if (!REQUIREMENT_OPERATORS.has(r.operator)) return undefined;
  const values = Array.isArray(r.values)
    ? r.values.filter((v): v is string => typeof v === "string")
    : undefined;
  return {
    key: r.key,
    operator: r.operator as NodeSelectorRequirement["operator"],
    ...optional("values", values),
  };
}

/** requiredDuringSchedulingIgnoredDuringExecution as sent → its nodeSelectorTerms; null when unset. */
export function nodeSelectorTermsFromKube(required: unknown): NodeSelectorTerm[] | null {
  if (required === null || typeof required !== "object") return null;
  const terms = (required as { nodeSelectorTerms?: unknown }).nodeSelectorTerms;
  if (!Array.isArray(terms)) return null;
  return terms.map((term: unknown): NodeSelectorTerm => {
    const t = (term ?? {}) as { matchExpressions?: unknown; matchFields?: unknown };
    const requirements = (list: unknown) =>
      Array.isArray(list)
        ? list.map(mapRequirement).filter((r): r is NodeSelectorRequirement => r !== undefined)
        : undefined;
    return {
      ...optional("matchExpressions", requirements(t.matchExpressions)),
      ...optional("matchFields", requirements(t.matchFields)),
    };
  });
}

/**
 * The report interval the DaemonSet's agents announce, from the template env
 * (TAPFLEET_REPORT_INTERVAL on any container); null when unset, taken from a
 * Secret or ConfigMap, or not a whole number of seconds within the setting's
 * bounds (the agent then refuses to start, and its pod shows that).
 */
export function reportIntervalFromKube(daemonSet: Pick<KubeDaemonSet, "template">): number | null {
  for (const container of daemonSet.template.containers) {
    const entry = container.env[REPORT_INTERVAL_VARIABLE];
    if (!entry || entry.value === undefined) continue;
    if (!/^\d+$/.test(entry.value.trim())) return null;
    const seconds = Number(entry.value.trim());
    return seconds >= REPORT_INTERVAL_SECONDS.min && seconds <= REPORT_INTERVAL_SECONDS.max ? seconds : null;
  }
  return null;
}

export function inventoryDaemonSetFromKube(daemonSet: KubeDaemonSet): InventoryDaemonSet {
  return {
    namespace: daemonSet.namespace,
    name: daemonSet.name,
    nodeSelector: daemonSet.template.nodeSelector,
    requiredNodeAffinity: nodeSelectorTermsFromKube(daemonSet.template.requiredNodeAffinity),
    tolerations: daemonSet.template.tolerations.map((t): InventoryToleration => ({
      ...optional("key", t.key),
      // An operator Kubernetes does not define counts as the default (Equal).
      ...optional<"operator", "Exists" | "Equal">(
        "operator",
        t.operator === "Exists" || t.operator === "Equal" ? t.operator : undefined,
      ),
      ...optional("value", t.value),
      ...optional(
        "effect",
        t.effect === undefined || t.effect === "" || TAINT_EFFECTS.has(t.effect)
          ? (t.effect as TaintEffect | "" | undefined)
          : undefined,
      ),
    })),
    hostNetwork: daemonSet.template.hostNetwork,
    ...optional("nodeName", daemonSet.template.nodeName),
    reportIntervalSeconds: reportIntervalFromKube(daemonSet),
  };
}

/**
 * The DaemonSet's status as `kubectl get ds -o wide` shows it. Rolling out while
 * the controller has not observed the current generation, or while fewer pods
 * run the current template than should run at all (`kubectl rollout status`
 * waits for the same).
 */
export function daemonSetStatusFromKube(daemonSet: KubeDaemonSet): DaemonSetStatus {
  const { status, generation } = daemonSet;
  const observedGeneration = daemonSet.observedGeneration ?? null;
  return {
    desired: status.desired,
    current: status.current,
    ready: status.ready,
    upToDate: status.updated,
    available: status.available,
    unavailable: status.unavailable,
    misscheduled: status.misscheduled,
    generation,
    observedGeneration,
    rollingOut: observedGeneration !== generation || status.updated < status.desired,
  };
}

/** Each DaemonSet's status by `namespace/name` (the key the coverage summaries use). */
export function daemonSetStatusesFromKube(
  daemonSets: readonly KubeDaemonSet[],
): Record<string, DaemonSetStatus> {
  return Object.fromEntries(daemonSets.map((ds) => [inventoryObjectKey(ds), daemonSetStatusFromKube(ds)]));
}

function mapContainerState(state: ContainerState | undefined): InventoryContainerState {
  if (!state) return {};
  switch (state.state) {
    case "waiting":
      return { waiting: { ...optional("reason", state.reason), ...optional("message", state.message) } };
    case "running":
      return { running: { ...optional("startedAt", state.startedAt) } };
    case "terminated":
      return {
        terminated: {
          exitCode: state.exitCode ?? 0,
          ...optional("reason", state.reason),
          ...optional("message", state.message),
          ...optional("startedAt", state.startedAt),
          ...optional("finishedAt", state.finishedAt),
        },
      };
    default:
      return {};
  }
}

/**
 * A pod of a sensor DaemonSet; `daemonSetNames` maps the DaemonSet uids of the
 * cluster to their names (the pod names its owner by uid only).
 */
export function inventoryPodFromKube(
  pod: KubePod,
  daemonSetNames: ReadonlyMap<string, string>,
): InventoryPod {
  return {
    namespace: pod.namespace,
    name: pod.name,
    daemonSet: pod.daemonSetUid === undefined ? null : (daemonSetNames.get(pod.daemonSetUid) ?? null),
    nodeName: pod.nodeName ?? null,
    phase: (pod.phase !== undefined && POD_PHASES.has(pod.phase)
      ? pod.phase
      : "Pending") as InventoryPod["phase"],
    createdAt: pod.creationTimestamp ?? new Date(0).toISOString(),
    ...optional("deletedAt", pod.deletionTimestamp),
    scheduled: mapCondition(pod.scheduled),
    ready: mapCondition(pod.ready),
    containerStatuses: pod.containers.map((c) => ({
      name: c.name,
      ready: c.ready,
      restartCount: c.restartCount,
      state: mapContainerState(c.state),
      lastState: mapContainerState(c.lastTerminated),
    })),
  };
}

/** One cluster's watched objects as the inventory's inputs. */
export function inventoryInputsFromKube(options: {
  nodes: readonly KubeNode[];
  daemonSets: readonly KubeDaemonSet[];
  pods: readonly KubePod[];
}): { nodes: InventoryNode[]; daemonSets: InventoryDaemonSet[]; pods: InventoryPod[] } {
  const names = new Map(options.daemonSets.map((ds) => [ds.uid, ds.name]));
  return {
    nodes: options.nodes.map(inventoryNodeFromKube),
    daemonSets: options.daemonSets.map(inventoryDaemonSetFromKube),
    pods: options.pods.map((pod) => inventoryPodFromKube(pod, names)),
  };
}
