// Whether a DaemonSet should run a pod on a node: the rules of the Kubernetes
// DaemonSet controller (pkg/controller/daemon NodeShouldRunDaemonPod, 1.32),
// with the node affinity and toleration semantics of
// k8s.io/component-helpers/scheduling/corev1 and k8s.io/api/core/v1. Pure.

import type {
  InventoryDaemonSet,
  InventoryNode,
  InventoryTaint,
  InventoryToleration,
  NodeSelectorRequirement,
  NodeSelectorTerm,
} from "./types.ts";

export type NodePlacement =
  | { shouldRun: true }
  | {
      shouldRun: false;
      /** A sentence naming the rule that keeps the pod off the node. */
      reason: string;
      /** An existing pod may stay: only an untolerated NoExecute taint (or the affinity) evicts it. */
      shouldContinueRunning: boolean;
    };

/** What util.AddOrUpdateDaemonPodTolerations adds to every DaemonSet pod (and to a host-network one). */
const DEFAULT_DAEMON_POD_TOLERATIONS: readonly InventoryToleration[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
];
const HOST_NETWORK_TOLERATION: InventoryToleration = {
  key: "node.kubernetes.io/network-unavailable",
  operator: "Exists",
  effect: "NoSchedule",
};

function sameToleration(a: InventoryToleration, b: InventoryToleration): boolean {
  return (
    (a.key ?? "") === (b.key ?? "") &&
    (a.operator ?? "") === (b.operator ?? "") &&
    (a.value ?? "") === (b.value ?? "") &&
    (a.effect ?? "") === (b.effect ?? "")
  );
}

/** The tolerations util.AddOrUpdateDaemonPodTolerations adds to every DaemonSet pod. */
export function daemonPodTolerations(daemonSet: Pick<InventoryDaemonSet, "tolerations" | "hostNetwork">) {
  const tolerations: InventoryToleration[] = [...daemonSet.tolerations];
  const added = daemonSet.hostNetwork
    ? [...DEFAULT_DAEMON_POD_TOLERATIONS, HOST_NETWORK_TOLERATION]
    : DEFAULT_DAEMON_POD_TOLERATIONS;
  for (const toleration of added) {
    const index = tolerations.findIndex((other) => sameToleration(other, toleration));
    if (index >= 0) tolerations[index] = toleration;
    else tolerations.push(toleration);
  }
  return tolerations;
}

/**
 * A DaemonSet's pods tolerate the same on every node: worked out once per DaemonSet object, not
 * once per node (per node, it was ≈ 40 % of computing a 5,000-node cluster's coverage in a
 * profile of the first sync). The inventory's objects are replaced when a DaemonSet changes,
 * never changed in place, so an object's answer stays true.
 */
const tolerationsByDaemonSet = new WeakMap<InventoryDaemonSet, readonly InventoryToleration[]>();

function daemonSetPodTolerations(daemonSet: InventoryDaemonSet): readonly InventoryToleration[] {
  let tolerations = tolerationsByDaemonSet.get(daemonSet);
  if (tolerations === undefined) {
    tolerations = daemonPodTolerations(daemonSet);
    tolerationsByDaemonSet.set(daemonSet, tolerations);
  }
  return tolerations;
}

/** The node's first taint of these effects that no toleration tolerates. */
function untoleratedTaint(
  taints: readonly InventoryTaint[],
  tolerations: readonly InventoryToleration[],
  effects: readonly string[],
): InventoryTaint | undefined {
  for (const taint of taints) {
    if (!effects.includes(taint.effect)) continue;
    if (!tolerations.some((toleration) => tolerationToleratesTaint(toleration, taint))) return taint;
  }
  return undefined;
}
const SCHEDULING_EFFECTS = ["NoSchedule", "NoExecute"] as const;
const EVICTING_EFFECTS = ["NoExecute"] as const;

/** v1.Toleration.ToleratesTaint, operator for operator. */
export function tolerationToleratesTaint(toleration: InventoryToleration, taint: InventoryTaint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? "Equal") {
    case "Equal":
      return (toleration.value ?? "") === (taint.value ?? "");
    case "Exists":
      return true;
    default:
      return false;
  }
}

export function formatTaint(taint: InventoryTaint): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ""}:${taint.effect}`;
}

// ---------------------------------------------------------------------------
// Node affinity

/** strconv.ParseInt(s, 10, 64): an optional sign and decimal digits, within int64. */
function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value >= -(2n ** 63n) && value < 2n ** 63n ? value : undefined;
}

const formatValues = (values: readonly string[]): string => `(${values.join(", ")})`;

function describeRequirement(requirement: NodeSelectorRequirement): string {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case "Exists":
    case "DoesNotExist":
      return `${requirement.key} ${requirement.operator}`;
    case "Gt":
    case "Lt":
      return `${requirement.key} ${requirement.operator} ${values[0] ?? ""}`.trimEnd();
    default:
      return `${requirement.key} ${requirement.operator} ${formatValues(values)}`;
  }
}

/**
 * Why a label requirement fails (labels.Requirement.Matches, after
 * nodeSelectorRequirementsAsSelector's validation), or undefined when it holds.
 */
function labelRequirementProblem(
  requirement: NodeSelectorRequirement,
  labels: Record<string, string>,
): string | undefined {
  const values = requirement.values ?? [];
  const has = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  const actual = has
    ? `the node has ${requirement.key}=${value}`
    : `the node has no label ${requirement.key}`;
  const wanted = describeRequirement(requirement);
  switch (requirement.operator) {
    case "In":
      if (values.length === 0) return `${wanted} is invalid: In needs at least one value`;
      return has && values.includes(value!) ? undefined : `${wanted} does not hold: ${actual}`;
    case "NotIn":
      if (values.length === 0) return `${wanted} is invalid: NotIn needs at least one value`;
      return has && values.includes(value!) ? `${wanted} does not hold: ${actual}` : undefined;
    case "Exists":
      if (values.length > 0) return `${wanted} is invalid: Exists takes no values`;
      return has ? undefined : `${wanted} does not hold: ${actual}`;
    case "DoesNotExist":
      if (values.length > 0) return `${wanted} is invalid: DoesNotExist takes no values`;
      return has ? `${wanted} does not hold: ${actual}` : undefined;
    case "Gt":
    case "Lt": {
      const bound = values.length === 1 ? parseInt64(values[0]!) : undefined;
      if (bound === undefined) return `${wanted} is invalid: ${requirement.operator} needs one integer value`;
      if (!has) return `${wanted} does not hold: ${actual}`;
      const have = parseInt64(value!);
      if (have === undefined)
        return `${wanted} does not hold: the node's ${requirement.key}=${value} is not an integer`;
      const holds = requirement.operator === "Gt" ? have > bound : have < bound;
      return holds ? undefined : `${wanted} does not hold: ${actual}`;
    }
    default:
      return `${requirement.key} has an unknown operator ${String(requirement.operator)}`;
  }
}

/** nodeSelectorRequirementsAsFieldSelector: metadata.name only, In or NotIn, exactly one value. */
function fieldRequirementProblem(requirement: NodeSelectorRequirement, nodeName: string): string | undefined {
  const values = requirement.values ?? [];
  const wanted = `field ${describeRequirement(requirement)}`;
  if (requirement.key !== "metadata.name")
    return `${wanted} is invalid: only metadata.name can be matched as a field`;
  if (requirement.operator !== "In" && requirement.operator !== "NotIn")
    return `${wanted} is invalid: a field matches only with In or NotIn`;
  if (values.length !== 1) return `${wanted} is invalid: a field matches exactly one value`;
  const equal = values[0] === nodeName;
  return equal === (requirement.operator === "In")
    ? undefined
    : `${wanted} does not hold: the node is ${nodeName}`;
}

/** Why a term does not select the node (the first failing requirement), or undefined when it does. */
function termProblem(term: NodeSelectorTerm, node: InventoryNode): string | undefined {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term selects no node.
  if (expressions.length === 0 && fields.length === 0) return "the term is empty and selects no node";
  for (const expression of expressions) {
    const problem = labelRequirementProblem(expression, node.labels);
    if (problem) return problem;
  }
  for (const field of fields) {
    const problem = fieldRequirementProblem(field, node.name);
    if (problem) return problem;
  }
  return undefined;
}

function nodeSelectorProblem(selector: Record<string, string>, node: InventoryNode): string | undefined {
  for (const [key, wanted] of Object.entries(selector)) {
    if (!Object.hasOwn(node.labels, key))
      return `Node has no label ${key}; the nodeSelector wants ${key}=${wanted}.`;
    const value = node.labels[key];
    if (value !== wanted) return `Label ${key}=${value} does not match the nodeSelector ${key}=${wanted}.`;
  }
  return undefined;
}

function requiredAffinityProblem(
  terms: readonly NodeSelectorTerm[],
  node: InventoryNode,
): string | undefined {
  // Terms are ORed: the node fits when any one of them selects it.
  const problems: string[] = [];
  for (const term of terms) {
    const problem = termProblem(term, node);
    if (problem === undefined) return undefined;
    problems.push(problem);
  }
  if (problems.length === 0) return "The required node affinity has no terms and selects no node.";
  if (problems.length === 1) return `Required node affinity: ${problems[0]}.`;
  return `No term of the required node affinity matches: ${problems
    .map((problem, i) => `term ${i + 1}: ${problem}`)
    .join("; ")}.`;
}

// ---------------------------------------------------------------------------
// The rule

/**
 * Whether the DaemonSet's controller would run a pod on the node, and if not, why:
 * the template's nodeName, then its nodeSelector (every label equal), then its
 * required node affinity (terms ORed, requirements ANDed), then the node's
 * NoSchedule and NoExecute taints against the template's tolerations plus the
 * controller's defaults. PreferNoSchedule never excludes, and a cordoned node
 * still runs DaemonSet pods (its unschedulable taint is tolerated by default).
 */
export function nodeShouldRunDaemonSet(options: {
  node: InventoryNode;
  daemonSet: InventoryDaemonSet;
}): NodePlacement {
  const { node, daemonSet } = options;
  if (daemonSet.nodeName && daemonSet.nodeName !== node.name)
    return {
      shouldRun: false,
      reason: `The DaemonSet's pod template is pinned to node ${daemonSet.nodeName}.`,
      shouldContinueRunning: false,
    };
  const affinityProblem =
    nodeSelectorProblem(daemonSet.nodeSelector, node) ??
    (daemonSet.requiredNodeAffinity === null
      ? undefined
      : requiredAffinityProblem(daemonSet.requiredNodeAffinity, node));
  if (affinityProblem) return { shouldRun: false, reason: affinityProblem, shouldContinueRunning: false };

  if (node.taints.length === 0) return { shouldRun: true };
  const tolerations = daemonSetPodTolerations(daemonSet);
  const taint = untoleratedTaint(node.taints, tolerations, SCHEDULING_EFFECTS);
  if (taint)
    return {
      shouldRun: false,
      reason: `Taint ${formatTaint(taint)} is not tolerated.`,
      shouldContinueRunning: untoleratedTaint(node.taints, tolerations, EVICTING_EFFECTS) === undefined,
    };
  return { shouldRun: true };
}
