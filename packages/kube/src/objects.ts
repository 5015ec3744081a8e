// The trimmed views of nodes, sensor DaemonSets and their pods: only the fields
// the product uses, as plain JSON (timestamps stay RFC 3339 strings). Nothing
// here keeps managedFields, full specs or statuses we do not read.

import { PART_OF_LABEL, PART_OF_VALUE } from "@tapfleet/sensor/manifests";
import type { Versioned } from "./reducer.ts";

type Json = Record<string, unknown>;

/** The label that marks a DaemonSet as Tapfleet's, defined with the sensor manifests that set it. */
export { PART_OF_LABEL, PART_OF_VALUE } from "@tapfleet/sensor/manifests";
/** An environment variable only the osSensor contract uses: a DaemonSet whose template sets it runs a sensor. */
export const SENSOR_ENV_MARKER = "VSENSOR_HOSTNAME";

export interface Taint {
  key: string;
  value?: string | undefined;
  effect: string;
}

export interface Condition {
  status: string;
  reason?: string | undefined;
  message?: string | undefined;
  lastTransitionTime?: string | undefined;
}

export interface KubeNode extends Versioned {
  name: string;
  uid: string;
  labels: Record<string, string>;
  taints: Taint[];
  /** The Ready condition; undefined when the node has not reported one yet. */
  ready: Condition | undefined;
  unschedulable: boolean;
  kubeletVersion: string | undefined;
  deletionTimestamp: string | undefined;
}

export interface Toleration {
  key?: string | undefined;
  operator?: string | undefined;
  value?: string | undefined;
  effect?: string | undefined;
  tolerationSeconds?: number | undefined;
}

/** An env entry: a literal value, or a summary of where it comes from (`secretKeyRef:name/key`). */
export interface EnvEntry {
  value?: string | undefined;
  valueFrom?: string | undefined;
}

export interface SensorContainer {
  name: string;
  image: string;
  env: Record<string, EnvEntry>;
}

export interface LabelSelector {
  matchLabels?: Record<string, string> | undefined;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] | undefined }> | undefined;
}

export interface KubeDaemonSet extends Versioned {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  generation: number;
  observedGeneration: number | undefined;
  status: {
    desired: number;
    current: number;
    ready: number;
    updated: number;
    available: number;
    unavailable: number;
    misscheduled: number;
  };
  selector: LabelSelector;
  template: {
    annotations: Record<string, string>;
    nodeSelector: Record<string, string>;
    /** `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`, as sent. */
    requiredNodeAffinity: unknown;
    tolerations: Toleration[];
    /** `spec.hostNetwork`: the controller then also tolerates network-unavailable nodes. */
    hostNetwork: boolean;
    /** `spec.nodeName`, when the template pins its pods to one node. */
    nodeName: string | undefined;
    containers: SensorContainer[];
  };
}

export interface ContainerState {
  state: "waiting" | "running" | "terminated" | "unknown";
  reason?: string | undefined;
  message?: string | undefined;
  exitCode?: number | undefined;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state: ContainerState;
  /** The previous run's end, when it was terminated. */
  lastTerminated: ContainerState | undefined;
}

export interface KubePod extends Versioned {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string | undefined;
  /** The uid of the DaemonSet controlling the pod. */
  daemonSetUid: string | undefined;
  phase: string | undefined;
  ready: Condition | undefined;
  scheduled: Condition | undefined;
  containers: ContainerStatus[];
  creationTimestamp: string | undefined;
  deletionTimestamp: string | undefined;
  /** The `controller-revision-hash` label: which template revision the pod runs. */
  templateHash: string | undefined;
  /** The pod's annotations under `tapfleet.io/`: the configuration revision and hash it started with. */
  tapfleetAnnotations: Record<string, string>;
  /** Each container's image, by container name (what a rollout compares with its template). */
  images: Record<string, string>;
}

// ---- small readers of untyped JSON -------------------------------------------

const obj = (value: unknown): Json =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);
const strings = (value: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(value))) if (typeof v === "string") out[k] = v;
  return out;
};

/**
 * One copy of each value that many objects repeat (namespaces, phases, reasons and messages,
 * images, versions, label values, timestamps): every parsed list page or watch event brings its
 * own copy of each, and 100,000 pods and nodes would keep 100,000 copies of "Running" or
 * "kubelet is posting ready status". The table is shared by every cluster and emptied when it
 * reaches SHARED_STRINGS_LIMIT, so values that turn out to be unique cost a bounded amount.
 */
const sharedStrings = new Map<string, string>();
export const SHARED_STRINGS_LIMIT = 50_000;
function shared(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const known = sharedStrings.get(value);
  if (known !== undefined) return known;
  if (sharedStrings.size >= SHARED_STRINGS_LIMIT) sharedStrings.clear();
  sharedStrings.set(value, value);
  return value;
}
/** `strings`, with the values shared; a label that names one host only (its hostname) is kept as is. */
const sharedValues = (value: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(value)))
    if (typeof v === "string") out[k] = k === "kubernetes.io/hostname" ? v : (shared(v) ?? v);
  return out;
};
const definedOnly = <V extends object>(value: V): V =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as V;

function condition(conditions: unknown, type: string): Condition | undefined {
  const found = arr(conditions)
    .map(obj)
    .find((c) => c.type === type);
  if (!found) return undefined;
  return definedOnly({
    status: shared(found.status) ?? "Unknown",
    reason: shared(found.reason),
    message: shared(found.message),
    lastTransitionTime: shared(found.lastTransitionTime),
  });
}

// ---- nodes -------------------------------------------------------------------

export function trimNode(raw: unknown): KubeNode {
  const node = obj(raw);
  const metadata = obj(node.metadata);
  const spec = obj(node.spec);
  const status = obj(node.status);
  return {
    name: str(metadata.name) ?? "",
    uid: str(metadata.uid) ?? "",
    resourceVersion: str(metadata.resourceVersion) ?? "",
    labels: sharedValues(metadata.labels),
    taints: arr(spec.taints)
      .map(obj)
      .map((t) =>
        definedOnly({ key: shared(t.key) ?? "", value: shared(t.value), effect: shared(t.effect) ?? "" }),
      ),
    ready: condition(status.conditions, "Ready"),
    unschedulable: spec.unschedulable === true,
    kubeletVersion: shared(obj(status.nodeInfo).kubeletVersion),
    deletionTimestamp: str(metadata.deletionTimestamp),
  };
}

// ---- DaemonSets ----------------------------------------------------------------

/** Whether a raw DaemonSet is a sensor's: labelled part-of tapfleet, or a container carries the osSensor contract. */
export function isSensorDaemonSet(raw: unknown): boolean {
  const daemonSet = obj(raw);
  if (strings(obj(daemonSet.metadata).labels)[PART_OF_LABEL] === PART_OF_VALUE) return true;
  const podSpec = obj(obj(obj(daemonSet.spec).template).spec);
  return [...arr(podSpec.containers), ...arr(podSpec.initContainers)].some((container) =>
    arr(obj(container).env).some((entry) => obj(entry).name === SENSOR_ENV_MARKER),
  );
}

function summarizeValueFrom(valueFrom: Json): string {
  const [source, ref] = Object.entries(valueFrom)[0] ?? ["unknown", {}];
  const r = obj(ref);
  const parts = [str(r.name), str(r.key) ?? str(r.fieldPath) ?? str(r.resource)].filter(Boolean);
  return `${source}:${parts.join("/")}`;
}

function trimContainer(raw: unknown): SensorContainer {
  const container = obj(raw);
  const env: Record<string, EnvEntry> = {};
  for (const entry of arr(container.env).map(obj)) {
    const name = str(entry.name);
    if (!name) continue;
    env[name] =
      entry.valueFrom !== undefined
        ? { valueFrom: summarizeValueFrom(obj(entry.valueFrom)) }
        : { value: str(entry.value) ?? "" };
  }
  return { name: str(container.name) ?? "", image: str(container.image) ?? "", env };
}

/** The trimmed DaemonSet, or undefined when it is not a sensor's. */
export function trimSensorDaemonSet(raw: unknown): KubeDaemonSet | undefined {
  if (!isSensorDaemonSet(raw)) return undefined;
  const daemonSet = obj(raw);
  const metadata = obj(daemonSet.metadata);
  const spec = obj(daemonSet.spec);
  const status = obj(daemonSet.status);
  const template = obj(spec.template);
  const podSpec = obj(template.spec);
  const selector = obj(spec.selector);
  return {
    namespace: str(metadata.namespace) ?? "",
    name: str(metadata.name) ?? "",
    uid: str(metadata.uid) ?? "",
    resourceVersion: str(metadata.resourceVersion) ?? "",
    labels: strings(metadata.labels),
    generation: num(metadata.generation) ?? 0,
    observedGeneration: num(status.observedGeneration),
    status: {
      desired: num(status.desiredNumberScheduled) ?? 0,
      current: num(status.currentNumberScheduled) ?? 0,
      ready: num(status.numberReady) ?? 0,
      updated: num(status.updatedNumberScheduled) ?? 0,
      available: num(status.numberAvailable) ?? 0,
      unavailable: num(status.numberUnavailable) ?? 0,
      misscheduled: num(status.numberMisscheduled) ?? 0,
    },
    selector: definedOnly({
      matchLabels: selector.matchLabels === undefined ? undefined : strings(selector.matchLabels),
      matchExpressions:
        selector.matchExpressions === undefined
          ? undefined
          : arr(selector.matchExpressions)
              .map(obj)
              .map((e) =>
                definedOnly({
                  key: str(e.key) ?? "",
                  operator: str(e.operator) ?? "",
                  values:
                    e.values === undefined ? undefined : arr(e.values).filter((v) => typeof v === "string"),
                }),
              ),
    }),
    template: {
      annotations: strings(obj(template.metadata).annotations),
      nodeSelector: strings(podSpec.nodeSelector),
      requiredNodeAffinity: obj(obj(podSpec.affinity).nodeAffinity)
        .requiredDuringSchedulingIgnoredDuringExecution,
      tolerations: arr(podSpec.tolerations)
        .map(obj)
        .map((t) =>
          definedOnly({
            key: str(t.key),
            operator: str(t.operator),
            value: str(t.value),
            effect: str(t.effect),
            tolerationSeconds: num(t.tolerationSeconds),
          }),
        ),
      hostNetwork: podSpec.hostNetwork === true,
      nodeName: str(podSpec.nodeName),
      containers: arr(podSpec.containers).map(trimContainer),
    },
  };
}

/** A label selector in the `?labelSelector=` string form. */
export function labelSelectorString(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${values})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${values})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
    else throw new Error(`label selector: unknown operator ${JSON.stringify(e.operator)} for key ${e.key}`);
  }
  return parts.join(",");
}

// ---- pods ----------------------------------------------------------------------

function containerState(raw: unknown): ContainerState {
  const state = obj(raw);
  for (const kind of ["waiting", "running", "terminated"] as const) {
    if (state[kind] === undefined) continue;
    const detail = obj(state[kind]);
    return definedOnly({
      state: kind,
      reason: shared(detail.reason),
      message: shared(detail.message),
      exitCode: num(detail.exitCode),
      startedAt: shared(detail.startedAt),
      finishedAt: shared(detail.finishedAt),
    });
  }
  return { state: "unknown" };
}

export function trimPod(raw: unknown): KubePod {
  const pod = obj(raw);
  const metadata = obj(pod.metadata);
  const status = obj(pod.status);
  const owner = arr(metadata.ownerReferences)
    .map(obj)
    .find((o) => o.controller === true && o.kind === "DaemonSet");
  return {
    namespace: shared(metadata.namespace) ?? "",
    name: str(metadata.name) ?? "",
    uid: str(metadata.uid) ?? "",
    resourceVersion: str(metadata.resourceVersion) ?? "",
    nodeName: str(obj(pod.spec).nodeName),
    daemonSetUid: shared(owner?.uid),
    phase: shared(status.phase),
    ready: condition(status.conditions, "Ready"),
    scheduled: condition(status.conditions, "PodScheduled"),
    containers: arr(status.containerStatuses)
      .map(obj)
      .map((c) => {
        const last = obj(c.lastState);
        return {
          name: shared(c.name) ?? "",
          ready: c.ready === true,
          restartCount: num(c.restartCount) ?? 0,
          state: containerState(c.state),
          lastTerminated:
            last.terminated === undefined ? undefined : containerState({ terminated: last.terminated }),
        };
      }),
    creationTimestamp: shared(metadata.creationTimestamp),
    deletionTimestamp: shared(metadata.deletionTimestamp),
    templateHash: shared(strings(metadata.labels)["controller-revision-hash"]),
    tapfleetAnnotations: Object.fromEntries(
      Object.entries(strings(metadata.annotations))
        .filter(([key]) => key.startsWith("tapfleet.io/"))
        .map(([key, value]) => [key, shared(value) ?? value]),
    ),
    images: Object.fromEntries(
      arr(obj(pod.spec).containers)
        .map(obj)
        .map((c) => [shared(c.name) ?? "", shared(c.image) ?? ""]),
    ),
  };
}
