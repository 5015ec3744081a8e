// The DaemonSet controller, after pkg/controller/daemon (Kubernetes 1.32).
//
// `syncDaemonSet` is the whole decision: state in (the DaemonSet, nodes, its pods
// and ControllerRevisions, the time) → actions out. It is pure and table-tested.
// `startDaemonSetController` is the thin runner: it watches the store, keeps a
// per-key serial queue and applies the actions.

import { cloneJson } from "../json.ts";
import { isDeepStrictEqual } from "node:util";
import type { Clock, KubeObject, OwnerReference, StoreEvent } from "../types.ts";
import { isApiError } from "../errors.ts";
import type { SimObjectStore } from "../store.ts";
import { recordEvent } from "./events.ts";
import {
  findUntoleratedTaint,
  isPodReady,
  nodeTaints,
  podAvailability,
  podFitsNodeAffinity,
  targetNodeName,
  type Toleration,
} from "./scheduling.ts";
import { createWorkQueue, type WorkQueue } from "./work-queue.ts";

export const REVISION_HASH_LABEL = "controller-revision-hash";
export const TEMPLATE_GENERATION_LABEL = "pod-template-generation";
export const TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation";

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

// ---------------------------------------------------------------------------
// Hashing and revisions

/** JSON with keys sorted at every level, as Go marshals a map[string]interface{}. */
function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (typeof value === "object" && value !== null) {
    const out: Json = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeysDeep((value as Json)[key]);
    return out;
  }
  return value;
}

const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/**
 * controller.ComputeHash: FNV-32a over the template (and the collision count when
 * set), printed in decimal and mapped through rand.SafeEncodeString's alphabet.
 */
export function computeTemplateHash(template: unknown, collisionCount: number | undefined): string {
  let text = JSON.stringify(sortKeysDeep(template));
  if (collisionCount !== undefined) text += `#${collisionCount}`;
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((ch) => SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length]).join("");
}

/**
 * The ControllerRevision `data` of a DaemonSet: a strategic-merge patch that
 * replaces spec.template, byte-for-byte what kubectl's `rollout undo` compares
 * and sends (keys sorted, template metadata with `creationTimestamp: null`).
 */
export function revisionData(ds: KubeObject): Json {
  const template = cloneJson(obj(ds.spec?.template) ?? {});
  const metadata = obj(template.metadata) ?? {};
  template.metadata = { creationTimestamp: null, ...metadata };
  template.$patch = "replace";
  return sortKeysDeep({ spec: { template } }) as Json;
}

function revisionNumber(r: KubeObject): number {
  return typeof r.revision === "number" ? r.revision : 0;
}

// ---------------------------------------------------------------------------
// Pods

/** What util.AddOrUpdateDaemonPodTolerations adds to every daemon pod. */
export function daemonPodTolerations(podSpec: Json): Toleration[] {
  const tolerations: Toleration[] = Array.isArray(podSpec.tolerations)
    ? [...(podSpec.tolerations as Toleration[])]
    : [];
  const add = (t: Toleration): void => {
    const same = (o: Toleration): boolean =>
      (o.key ?? "") === (t.key ?? "") &&
      (o.operator ?? "") === (t.operator ?? "") &&
      (o.value ?? "") === (t.value ?? "") &&
      (o.effect ?? "") === (t.effect ?? "");
    const i = tolerations.findIndex(same);
    if (i >= 0) tolerations[i] = t;
    else tolerations.push(t);
  };
  add({ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" });
  add({ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" });
  add({ key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" });
  add({ key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" });
  add({ key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" });
  add({ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" });
  if (podSpec.hostNetwork === true)
    add({ key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" });
  return tolerations;
}

function controllerRef(ds: KubeObject): OwnerReference {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    name: ds.metadata.name!,
    uid: ds.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The pod a DaemonSet creates for a node: template + tolerations + labels + affinity pinning it to the node. */
export function newDaemonPod(ds: KubeObject, nodeName: string, hash: string): KubeObject {
  const template = cloneJson(obj(ds.spec?.template) ?? {});
  const tmeta = obj(template.metadata) ?? {};
  const spec = obj(template.spec) ?? {};
  spec.tolerations = daemonPodTolerations(spec);
  const affinity = obj(spec.affinity) ?? {};
  // ReplaceDaemonSetPodNodeNameNodeAffinity: the required term becomes exactly "this node".
  affinity.nodeAffinity = {
    ...obj(affinity.nodeAffinity),
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] }],
    },
  };
  spec.affinity = affinity;
  const generation = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  const labels: Record<string, string> = {
    ...(obj(tmeta.labels) as Record<string, string> | undefined),
    [REVISION_HASH_LABEL]: hash,
  };
  if (generation !== undefined) labels[TEMPLATE_GENERATION_LABEL] = generation;
  const metadata: KubeObject["metadata"] = {
    generateName: `${ds.metadata.name}-`,
    namespace: ds.metadata.namespace!,
    labels,
    ownerReferences: [controllerRef(ds)],
  };
  const annotations = obj(tmeta.annotations) as Record<string, string> | undefined;
  if (annotations) metadata.annotations = annotations;
  if (Array.isArray(tmeta.finalizers)) metadata.finalizers = tmeta.finalizers as string[];
  return { apiVersion: "v1", kind: "Pod", metadata, spec };
}

/** util.IsPodUpdated: hash label or template-generation label matches. */
function isPodUpdated(pod: KubeObject, hash: string, templateGeneration: string | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  return (
    (hash !== "" && labels[REVISION_HASH_LABEL] === hash) ||
    (templateGeneration !== undefined && labels[TEMPLATE_GENERATION_LABEL] === templateGeneration)
  );
}

/** podByCreationTimestampAndPhase: bound pods first, then oldest, then by name. */
function comparePods(a: KubeObject, b: KubeObject): number {
  const aBound = typeof a.spec?.nodeName === "string" && a.spec.nodeName !== "";
  const bBound = typeof b.spec?.nodeName === "string" && b.spec.nodeName !== "";
  if (aBound !== bBound) return aBound ? -1 : 1;
  const at = a.metadata.creationTimestamp ?? "";
  const bt = b.metadata.creationTimestamp ?? "";
  if (at !== bt) return at < bt ? -1 : 1;
  return (a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1;
}

// ---------------------------------------------------------------------------
// Node eligibility

/**
 * NodeShouldRunDaemonPod: `shouldRun` (a pod should be created here) and
 * `shouldContinueRunning` (an existing pod may stay: only NoExecute taints evict).
 */
export function nodeShouldRunDaemonPod(
  node: KubeObject,
  podSpec: Json,
  tolerations: readonly Toleration[],
): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const templateNodeName = podSpec.nodeName;
  if (
    typeof templateNodeName === "string" &&
    templateNodeName !== "" &&
    templateNodeName !== node.metadata.name
  ) {
    return { shouldRun: false, shouldContinueRunning: false };
  }
  if (!podFitsNodeAffinity(podSpec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = nodeTaints(node);
  const untolerated = findUntoleratedTaint(
    taints,
    tolerations,
    (t) => t.effect === "NoSchedule" || t.effect === "NoExecute",
  );
  if (untolerated) {
    const evicting = findUntoleratedTaint(taints, tolerations, (t) => t.effect === "NoExecute");
    return { shouldRun: false, shouldContinueRunning: evicting === undefined };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** intstr.GetScaledValueFromIntOrPercent with rounding up. */
export function scaledValue(value: unknown, total: number): number {
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const m = /^(\d+)%$/.exec(value);
    if (m) return Math.ceil((Number(m[1]) * total) / 100);
    if (/^\d+$/.test(value)) return Number(value);
  }
  return 0;
}

// ---------------------------------------------------------------------------
// The decision

export interface DaemonSetStatus {
  currentNumberScheduled: number;
  numberMisscheduled: number;
  desiredNumberScheduled: number;
  numberReady: number;
  observedGeneration?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  collisionCount?: number;
  conditions?: unknown[];
}

export type DaemonSetAction =
  | { type: "createRevision"; revision: KubeObject }
  | { type: "updateRevision"; name: string; revision: number }
  | { type: "deleteRevision"; name: string }
  | { type: "createPod"; nodeName: string; pod: KubeObject }
  | { type: "deletePod"; name: string }
  | { type: "updateStatus"; status: DaemonSetStatus }
  | { type: "requeueAfter"; ms: number };

export interface DaemonSetSyncInput {
  ds: KubeObject;
  nodes: Iterable<KubeObject>;
  /** Pods controlled by this DaemonSet. */
  pods: readonly KubeObject[];
  /** ControllerRevisions controlled by this DaemonSet. */
  revisions: readonly KubeObject[];
  now: number;
}

interface NodeState {
  node: KubeObject;
  shouldRun: boolean;
  shouldContinueRunning: boolean;
}

/**
 * One sync of one DaemonSet: history, then manage (create/delete per node), then
 * the rolling update (only when manage did nothing, as the real controller only
 * rolls when its expectations are met), then history cleanup, then status.
 */
export function syncDaemonSet(input: DaemonSetSyncInput): DaemonSetAction[] {
  const { ds, now } = input;
  const actions: DaemonSetAction[] = [];
  const spec = ds.spec ?? {};
  const template = obj(spec.template) ?? {};
  const podSpec = obj(template.spec) ?? {};
  const status = obj(ds.status) ?? {};
  const collisionCount = typeof status.collisionCount === "number" ? status.collisionCount : undefined;
  const minReadySeconds = typeof spec.minReadySeconds === "number" ? spec.minReadySeconds : 0;
  const templateGeneration = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];

  // --- history: find or create the current revision ---------------------------
  const data = revisionData(ds);
  const maxRevision = input.revisions.reduce((m, r) => Math.max(m, revisionNumber(r)), 0);
  const matching = input.revisions
    .filter((r) => isDeepStrictEqual(r.data, data))
    .sort((a, b) => revisionNumber(b) - revisionNumber(a));
  let hash = computeTemplateHash(template, collisionCount);
  let currentRevisionName: string;
  const current = matching[0];
  if (current) {
    currentRevisionName = current.metadata.name!;
    hash = current.metadata.labels?.[REVISION_HASH_LABEL] ?? hash;
    // Rolling back to an old template makes its revision the newest again.
    if (revisionNumber(current) < maxRevision)
      actions.push({ type: "updateRevision", name: currentRevisionName, revision: maxRevision + 1 });
  } else {
    currentRevisionName = `${ds.metadata.name}-${hash}`;
    if (input.revisions.some((r) => r.metadata.name === currentRevisionName)) {
      // Same name, different data: a hash collision. Bump collisionCount and retry with a new hash.
      const next = { ...statusOf(ds), collisionCount: (collisionCount ?? 0) + 1 };
      return [{ type: "updateStatus", status: next }];
    }
    const annotations = ds.metadata.annotations;
    actions.push({
      type: "createRevision",
      revision: {
        apiVersion: "apps/v1",
        kind: "ControllerRevision",
        metadata: {
          name: currentRevisionName,
          namespace: ds.metadata.namespace!,
          labels: {
            ...(obj(obj(template.metadata)?.labels) as Record<string, string> | undefined),
            [REVISION_HASH_LABEL]: hash,
          },
          ...(annotations ? { annotations: { ...annotations } } : {}),
          ownerReferences: [controllerRef(ds)],
        },
        data,
        revision: maxRevision + 1,
      },
    });
  }

  // --- node states and pods per node -------------------------------------------
  const tolerations = daemonPodTolerations(podSpec);
  const nodes = new Map<string, NodeState>();
  for (const node of input.nodes) {
    nodes.set(node.metadata.name!, { node, ...nodeShouldRunDaemonPod(node, podSpec, tolerations) });
  }
  const podsByNode = new Map<string, KubeObject[]>();
  const podsToDelete = new Set<string>();
  for (const pod of input.pods) {
    if (
      pod.metadata.deletionTimestamp !== undefined &&
      (pod.status?.phase === "Failed" || pod.status?.phase === "Succeeded")
    )
      continue;
    const nodeName = targetNodeName(pod);
    if (nodeName === undefined || !nodes.has(nodeName)) {
      // getUnscheduledPodsWithoutNode: a pod for a node that is gone is deleted.
      if (pod.metadata.deletionTimestamp === undefined) podsToDelete.add(pod.metadata.name!);
      continue;
    }
    let list = podsByNode.get(nodeName);
    if (!list) podsByNode.set(nodeName, (list = []));
    list.push(pod);
  }

  const strategy = obj(spec.updateStrategy) ?? {};
  const rolling = strategy.type === "RollingUpdate";
  const rollingParams = obj(strategy.rollingUpdate) ?? {};
  let desired = 0;
  for (const s of nodes.values()) if (s.shouldRun) desired++;
  const maxSurge = rolling ? scaledValue(rollingParams.maxSurge ?? 0, desired) : 0;
  let maxUnavailable = rolling ? scaledValue(rollingParams.maxUnavailable ?? 1, desired) : 0;
  if (desired > 0 && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  const allowsSurge = rolling && maxSurge > 0;

  const nodesNeedingPods: string[] = [];
  let surgeAvailableAt: number | undefined;
  if (ds.metadata.deletionTimestamp === undefined) {
    // --- manage ----------------------------------------------------------------
    for (const [nodeName, state] of nodes) {
      const daemonPods = podsByNode.get(nodeName) ?? [];
      const exists = daemonPods.length > 0;
      if (state.shouldRun && !exists) {
        nodesNeedingPods.push(nodeName);
        continue;
      }
      if (state.shouldContinueRunning) {
        const running: KubeObject[] = [];
        for (const pod of daemonPods) {
          if (pod.metadata.deletionTimestamp !== undefined) continue;
          const phase = pod.status?.phase;
          // Failed pods are replaced (the real controller adds a back-off; here the store is the only limiter).
          if (phase === "Failed" || (phase === "Succeeded" && podSpec.restartPolicy === "Always"))
            podsToDelete.add(pod.metadata.name!);
          else running.push(pod);
        }
        if (!allowsSurge) {
          running.sort(comparePods);
          for (const pod of running.slice(1)) podsToDelete.add(pod.metadata.name!);
          continue;
        }
        if (running.length <= 1) {
          if (running.length === 0 && state.shouldRun) nodesNeedingPods.push(nodeName);
          continue;
        }
        // Surging: keep the oldest new and the oldest old pod; drop the old one once the new one is up.
        running.sort(comparePods);
        let oldestNew: KubeObject | undefined;
        let oldestOld: KubeObject | undefined;
        for (const pod of running) {
          if (isPodUpdated(pod, hash, templateGeneration)) {
            if (!oldestNew) {
              oldestNew = pod;
              continue;
            }
          } else if (!oldestOld) {
            oldestOld = pod;
            continue;
          }
          podsToDelete.add(pod.metadata.name!);
        }
        if (oldestNew && oldestOld) {
          const availability = podAvailability(oldestNew, minReadySeconds, now);
          if (!isPodReady(oldestOld) || availability.available) podsToDelete.add(oldestOld.metadata.name!);
          // The status below looks at the old pod only: wake up when the new one turns available.
          else if (availability.availableAt !== undefined)
            surgeAvailableAt = Math.min(surgeAvailableAt ?? Infinity, availability.availableAt);
        }
      } else if (exists) {
        for (const pod of daemonPods)
          if (pod.metadata.deletionTimestamp === undefined) podsToDelete.add(pod.metadata.name!);
      }
    }

    const managed = nodesNeedingPods.length > 0 || podsToDelete.size > 0;
    // --- rolling update --------------------------------------------------------
    if (!managed && rolling) {
      rollingUpdate({
        nodes,
        podsByNode,
        hash,
        templateGeneration,
        minReadySeconds,
        now,
        maxSurge,
        maxUnavailable,
        desired,
        podsToDelete,
        nodesNeedingPods,
      });
    }
  }

  for (const name of podsToDelete) actions.push({ type: "deletePod", name });
  const created: KubeObject[] = [];
  for (const nodeName of nodesNeedingPods) {
    const pod = newDaemonPod(ds, nodeName, hash);
    created.push(pod);
    actions.push({ type: "createPod", nodeName, pod });
  }

  // --- state after these actions, for history cleanup ----------------------------
  const podsAfter: KubeObject[] = [
    ...input.pods.filter((p) => !podsToDelete.has(p.metadata.name!)),
    ...created,
  ];

  // --- cleanupHistory ------------------------------------------------------------
  const revisionHistoryLimit = typeof spec.revisionHistoryLimit === "number" ? spec.revisionHistoryLimit : 10;
  const liveHashes = new Set(
    podsAfter.map((p) => p.metadata.labels?.[REVISION_HASH_LABEL]).filter((h) => h !== undefined),
  );
  const old = input.revisions
    .filter(
      (r) =>
        r.metadata.name !== currentRevisionName &&
        !liveHashes.has(r.metadata.labels?.[REVISION_HASH_LABEL] ?? ""),
    )
    .sort((a, b) => revisionNumber(a) - revisionNumber(b));
  for (const r of old.slice(0, Math.max(0, old.length - revisionHistoryLimit)))
    actions.push({ type: "deleteRevision", name: r.metadata.name! });

  // --- status ----------------------------------------------------------------------
  // Computed from the state this sync started with: the real controller reads its
  // informer cache, which has not seen its own creations and deletions yet. So a
  // deleted pod still counts until the next sync (triggered by that deletion), and
  // `kubectl rollout status` sees every step (…, avl 3, then cur 2 avl 2, …).
  let current_ = 0;
  let misscheduled = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  let nextAvailableAt: number | undefined = surgeAvailableAt;
  for (const [nodeName, state] of nodes) {
    const daemonPods = podsByNode.get(nodeName);
    const scheduled = daemonPods !== undefined && daemonPods.length > 0;
    if (!state.shouldRun) {
      if (scheduled) misscheduled++;
      continue;
    }
    if (!scheduled) continue;
    current_++;
    const pod = daemonPods.length === 1 ? daemonPods[0]! : [...daemonPods].sort(comparePods)[0]!;
    if (isPodReady(pod)) {
      ready++;
      const availability = podAvailability(pod, minReadySeconds, now);
      if (availability.available) available++;
      else if (availability.availableAt !== undefined)
        nextAvailableAt = Math.min(nextAvailableAt ?? Infinity, availability.availableAt);
    }
    if (isPodUpdated(pod, hash, templateGeneration)) updated++;
  }
  const next: DaemonSetStatus = {
    currentNumberScheduled: current_,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
  };
  // These are omitempty in apps/v1: zero values are not serialised.
  const generation = ds.metadata.generation;
  if (generation) next.observedGeneration = generation;
  if (updated) next.updatedNumberScheduled = updated;
  if (available) next.numberAvailable = available;
  if (desired - available) next.numberUnavailable = desired - available;
  if (collisionCount !== undefined) next.collisionCount = collisionCount;
  if (Array.isArray(status.conditions)) next.conditions = status.conditions;
  if (!isDeepStrictEqual(next, statusOf(ds))) actions.push({ type: "updateStatus", status: next });
  if (nextAvailableAt !== undefined)
    actions.push({ type: "requeueAfter", ms: Math.max(1, nextAvailableAt - now) });
  return actions;
}

function statusOf(ds: KubeObject): DaemonSetStatus {
  return (ds.status ?? {}) as unknown as DaemonSetStatus;
}

interface RollingInput {
  nodes: Map<string, NodeState>;
  podsByNode: Map<string, KubeObject[]>;
  hash: string;
  templateGeneration: string | undefined;
  minReadySeconds: number;
  now: number;
  maxSurge: number;
  maxUnavailable: number;
  desired: number;
  podsToDelete: Set<string>;
  nodesNeedingPods: string[];
}

/** findUpdatedPodsOnNode: at most one new and one old pod, else `ok: false`. */
function findUpdatedPodsOnNode(
  pods: readonly KubeObject[],
  hash: string,
  templateGeneration: string | undefined,
): { newPod?: KubeObject; oldPod?: KubeObject; ok: boolean } {
  let newPod: KubeObject | undefined;
  let oldPod: KubeObject | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp !== undefined) continue;
    if (isPodUpdated(pod, hash, templateGeneration)) {
      if (newPod) return { ok: false };
      newPod = pod;
    } else {
      if (oldPod) return { ok: false };
      oldPod = pod;
    }
  }
  return { ...(newPod ? { newPod } : {}), ...(oldPod ? { oldPod } : {}), ok: true };
}

/** rollingUpdate of rolling_update.go, for maxSurge 0 (delete first) and > 0 (create first). */
function rollingUpdate(r: RollingInput): void {
  const available = (pod: KubeObject): boolean => podAvailability(pod, r.minReadySeconds, r.now).available;
  // nodeToDaemonPods plus an empty entry for every node that should run a pod.
  const entries = new Map<string, KubeObject[]>(r.podsByNode);
  for (const [name, state] of r.nodes) if (state.shouldRun && !entries.has(name)) entries.set(name, []);

  if (r.maxSurge === 0) {
    let numUnavailable = 0;
    const allowedReplacements: string[] = [];
    const candidates: string[] = [];
    for (const pods of entries.values()) {
      const { newPod, oldPod, ok } = findUpdatedPodsOnNode(pods, r.hash, r.templateGeneration);
      if (!ok) {
        numUnavailable++;
        continue;
      }
      if ((!oldPod && !newPod) || (oldPod && newPod)) {
        numUnavailable++;
      } else if (newPod) {
        if (!available(newPod)) numUnavailable++;
      } else if (oldPod) {
        if (!available(oldPod)) allowedReplacements.push(oldPod.metadata.name!);
        else if (numUnavailable >= r.maxUnavailable) continue;
        else candidates.push(oldPod.metadata.name!);
      }
    }
    const remaining = Math.min(Math.max(0, r.maxUnavailable - numUnavailable), candidates.length);
    for (const name of [...allowedReplacements, ...candidates.slice(0, remaining)]) r.podsToDelete.add(name);
    return;
  }

  const oldPodsToDelete: string[] = [];
  const shouldNotRunPodsToDelete: string[] = [];
  const candidateNewNodes: string[] = [];
  const allowedNewNodes: string[] = [];
  let numSurge = 0;
  let numAvailable = 0;
  for (const [nodeName, pods] of entries) {
    const { newPod, oldPod, ok } = findUpdatedPodsOnNode(pods, r.hash, r.templateGeneration);
    if (!ok) {
      numSurge++;
      continue;
    }
    if (oldPod) {
      if (available(oldPod)) numAvailable++;
    } else if (newPod && available(newPod)) numAvailable++;
    if (!oldPod) continue;
    const shouldRun = r.nodes.get(nodeName)?.shouldRun ?? false;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun) oldPodsToDelete.push(oldPod.metadata.name!);
        else allowedNewNodes.push(nodeName);
      } else if (!shouldRun) {
        shouldNotRunPodsToDelete.push(oldPod.metadata.name!);
      } else if (numSurge < r.maxSurge) {
        candidateNewNodes.push(nodeName);
      }
    } else if (!available(newPod)) {
      numSurge++;
    } else {
      oldPodsToDelete.push(oldPod.metadata.name!);
    }
  }
  const deletable = Math.min(Math.max(0, numAvailable - r.desired), shouldNotRunPodsToDelete.length);
  oldPodsToDelete.push(...shouldNotRunPodsToDelete.slice(0, deletable));
  const remainingSurge = Math.min(Math.max(0, r.maxSurge - numSurge), candidateNewNodes.length);
  for (const name of oldPodsToDelete) r.podsToDelete.add(name);
  r.nodesNeedingPods.push(...allowedNewNodes, ...candidateNewNodes.slice(0, remainingSurge));
}

// ---------------------------------------------------------------------------
// The runner

export interface DaemonSetControllerOptions {
  store: SimObjectStore;
  clock: Clock;
  /** Record SuccessfulCreate/SuccessfulDelete Events. Default true. */
  recordEvents?: boolean;
  onError?: (err: unknown) => void;
}

export interface DaemonSetController {
  /** The per-DaemonSet queue (keys are `namespace/name`). */
  queue: WorkQueue;
  /** Syncs run so far (for benchmarks). */
  syncCount(): number;
  stop(): void;
}

function controllerOwner(o: KubeObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** Watches the store and reconciles every DaemonSet through a per-key serial queue on the clock. */
export function startDaemonSetController(options: DaemonSetControllerOptions): DaemonSetController {
  const { store, clock } = options;
  const recordEvents = options.recordEvents ?? true;
  // Informer-like caches: nodes by name, DaemonSet keys.
  const nodes = new Map<string, KubeObject>();
  for (const node of store.list("nodes").items) nodes.set(node.metadata.name!, node);
  const dsKeys = new Set<string>();
  for (const ds of store.list("daemonsets.apps").items)
    dsKeys.add(`${ds.metadata.namespace}/${ds.metadata.name}`);

  const queue = createWorkQueue({
    clock,
    process: sync,
    batchSize: 50,
    onError: (key, err) => options.onError?.(new Error(`syncing DaemonSet ${key}`, { cause: err })),
  });

  let syncs = 0;

  function sync(key: string): void {
    syncs++;
    const [namespace, name] = key.split("/") as [string, string];
    const ds = store.get("daemonsets.apps", namespace, name);
    if (!ds) return;
    const uid = ds.metadata.uid!;
    const pods: KubeObject[] = [];
    const revisions: KubeObject[] = [];
    for (const { resource, object } of store.dependentsOf(uid)) {
      if (controllerOwner(object)?.uid !== uid) continue;
      if (resource === "pods") pods.push(object);
      else if (resource === "controllerrevisions.apps") revisions.push(object);
    }
    const actions = syncDaemonSet({ ds, nodes: nodes.values(), pods, revisions, now: clock.now() });
    apply(ds, actions);
  }

  function apply(ds: KubeObject, actions: DaemonSetAction[]): void {
    const namespace = ds.metadata.namespace!;
    const key = `${namespace}/${ds.metadata.name}`;
    for (const action of actions) {
      switch (action.type) {
        case "createRevision":
          try {
            store.create("controllerrevisions.apps", action.revision);
          } catch (err) {
            if (!isApiError(err, "AlreadyExists")) throw err;
            // Someone else's revision holds our name: a collision. Bump the count; the next sync picks a new hash.
            const fresh = store.get("daemonsets.apps", namespace, ds.metadata.name!);
            if (!fresh) return;
            const status = {
              ...fresh.status,
              collisionCount: ((fresh.status?.collisionCount as number | undefined) ?? 0) + 1,
            };
            store.update("daemonsets.apps", { ...fresh, status }, { subresource: "status" });
            return;
          }
          break;
        case "updateRevision": {
          const revision = store.get("controllerrevisions.apps", namespace, action.name);
          if (revision)
            store.update("controllerrevisions.apps", { ...cloneJson(revision), revision: action.revision });
          break;
        }
        case "deleteRevision":
          deleteIgnoringNotFound("controllerrevisions.apps", namespace, action.name);
          break;
        case "createPod": {
          const pod = store.create("pods", action.pod);
          if (recordEvents)
            recordEvent(store, clock, {
              involved: ds,
              type: "Normal",
              reason: "SuccessfulCreate",
              message: `Created pod: ${pod.metadata.name}`,
              component: "daemonset-controller",
            });
          break;
        }
        case "deletePod":
          if (deleteIgnoringNotFound("pods", namespace, action.name) && recordEvents) {
            recordEvent(store, clock, {
              involved: ds,
              type: "Normal",
              reason: "SuccessfulDelete",
              message: `Deleted pod: ${action.name}`,
              component: "daemonset-controller",
            });
          }
          break;
        case "updateStatus": {
          const fresh = store.get("daemonsets.apps", namespace, ds.metadata.name!);
          if (fresh)
            store.update(
              "daemonsets.apps",
              { ...fresh, status: { ...action.status } },
              { subresource: "status" },
            );
          break;
        }
        case "requeueAfter":
          queue.addAfter(key, action.ms);
          break;
      }
    }
  }

  function deleteIgnoringNotFound(resource: string, namespace: string, name: string): boolean {
    try {
      store.delete(resource, namespace, name);
      return true;
    } catch (err) {
      if (isApiError(err, "NotFound")) return false;
      throw err;
    }
  }

  function enqueueAll(): void {
    for (const key of dsKeys) queue.add(key);
  }

  const unsubscribe = store.subscribe((event: StoreEvent) => {
    const o = event.object;
    switch (event.resource) {
      case "daemonsets.apps": {
        const key = `${o.metadata.namespace}/${o.metadata.name}`;
        if (event.type === "DELETED") dsKeys.delete(key);
        else dsKeys.add(key);
        queue.add(key);
        break;
      }
      case "nodes": {
        const old = nodes.get(o.metadata.name!);
        if (event.type === "DELETED") nodes.delete(o.metadata.name!);
        else nodes.set(o.metadata.name!, o);
        // Heartbeats and status-only changes do not change where daemon pods belong.
        if (
          event.type !== "MODIFIED" ||
          !old ||
          !isDeepStrictEqual(old.metadata.labels, o.metadata.labels) ||
          !isDeepStrictEqual(old.spec, o.spec)
        )
          enqueueAll();
        break;
      }
      case "pods":
      case "controllerrevisions.apps": {
        const owner = controllerOwner(o);
        if (owner?.kind === "DaemonSet") queue.add(`${o.metadata.namespace}/${owner.name}`);
        break;
      }
      default:
        break;
    }
  });
  enqueueAll();

  return {
    queue,
    syncCount: () => syncs,
    stop() {
      unsubscribe();
      queue.stop();
    },
  };
}
