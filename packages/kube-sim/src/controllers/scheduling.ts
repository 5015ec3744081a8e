// Scheduling predicates shared by the DaemonSet controller and the scheduler:
// node selectors, required node affinity, taints and tolerations, pod readiness.
// Semantics follow k8s.io/component-helpers/scheduling/corev1 and pkg/api/v1/pod.

import type { KubeObject } from "../types.ts";

export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute" | "";
  tolerationSeconds?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  timeAdded?: string;
}

interface NodeSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";
  values?: string[];
}

interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

export function tolerationTolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if ((t.key ?? "") !== "" && t.key !== taint.key) return false;
  if (t.operator === "Exists") return true;
  // An empty key needs operator Exists; Equal (or unset) compares values.
  if ((t.key ?? "") === "") return false;
  return (t.value ?? "") === (taint.value ?? "");
}

/** The first taint matching `filter` that no toleration tolerates. */
export function findUntoleratedTaint(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  filter: (t: Taint) => boolean,
): Taint | undefined {
  return taints.find((taint) => filter(taint) && !tolerations.some((t) => tolerationTolerates(t, taint)));
}

export function nodeTaints(node: KubeObject): Taint[] {
  const taints = node.spec?.taints;
  return Array.isArray(taints) ? (taints as Taint[]) : [];
}

function requirementMatches(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || values.length !== 1) return false;
      const have = Number.parseInt(value, 10);
      const want = Number.parseInt(values[0]!, 10);
      if (Number.isNaN(have) || Number.isNaN(want)) return false;
      return req.operator === "Gt" ? have > want : have < want;
    }
    default:
      return false;
  }
}

function termMatches(term: NodeSelectorTerm, node: KubeObject): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term selects no node.
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  for (const e of expressions) if (!requirementMatches(e, labels[e.key])) return false;
  for (const f of fields) {
    if (f.key !== "metadata.name") return false;
    if (!requirementMatches(f, node.metadata.name)) return false;
  }
  return true;
}

/** nodeSelector and required node affinity (the NodeAffinity filter plugin). */
export function podFitsNodeAffinity(podSpec: Json, node: KubeObject): boolean {
  const selector = obj(podSpec.nodeSelector) as Record<string, string> | undefined;
  if (selector) {
    const labels = node.metadata.labels ?? {};
    for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  }
  const required = obj(
    obj(obj(podSpec.affinity)?.nodeAffinity)?.requiredDuringSchedulingIgnoredDuringExecution,
  );
  if (required) {
    const terms = Array.isArray(required.nodeSelectorTerms)
      ? (required.nodeSelectorTerms as NodeSelectorTerm[])
      : [];
    if (!terms.some((term) => termMatches(term, node))) return false;
  }
  return true;
}

/** The node a pod is bound or pinned to: spec.nodeName, else a required `metadata.name In [x]` affinity. */
export function targetNodeName(pod: KubeObject): string | undefined {
  const nodeName = pod.spec?.nodeName;
  if (typeof nodeName === "string" && nodeName !== "") return nodeName;
  const required = obj(
    obj(obj(pod.spec?.affinity)?.nodeAffinity)?.requiredDuringSchedulingIgnoredDuringExecution,
  );
  const terms = Array.isArray(required?.nodeSelectorTerms)
    ? (required.nodeSelectorTerms as NodeSelectorTerm[])
    : [];
  for (const term of terms) {
    for (const f of term.matchFields ?? []) {
      if (f.key === "metadata.name" && f.operator === "In" && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

export function podCondition(pod: KubeObject, type: string): PodCondition | undefined {
  const conditions = pod.status?.conditions;
  return Array.isArray(conditions) ? (conditions as PodCondition[]).find((c) => c.type === type) : undefined;
}

export function isPodReady(pod: KubeObject): boolean {
  return podCondition(pod, "Ready")?.status === "True";
}

/**
 * podutil.IsPodAvailable: Ready, and Ready for longer than minReadySeconds.
 * Returns the time it becomes available when it is ready but not yet available.
 */
export function podAvailability(
  pod: KubeObject,
  minReadySeconds: number,
  now: number,
): { available: boolean; availableAt?: number } {
  const ready = podCondition(pod, "Ready");
  if (ready?.status !== "True") return { available: false };
  if (minReadySeconds === 0) return { available: true };
  if (!ready.lastTransitionTime) return { available: false };
  const at = Date.parse(ready.lastTransitionTime) + minReadySeconds * 1000;
  // Strictly after, as in the real check (`Add(minReady).Before(now)`).
  return at < now ? { available: true } : { available: false, availableAt: at + 1 };
}

export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  return podAvailability(pod, minReadySeconds, now).available;
}
