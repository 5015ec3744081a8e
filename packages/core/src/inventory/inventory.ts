// The inventory: what the informers have seen of every connected cluster, as
// one plain-data state that a pure reducer advances event by event. Replaying
// a cluster's events gives the same state as building it from the final lists.

import type { InventoryDaemonSet, InventoryNode, InventoryPod } from "./types.ts";

export interface ClusterInventory {
  /** False after the informers lost the cluster's API; the objects are then the last known ones. */
  reachable: boolean;
  /** ISO timestamp of the last change of `reachable`; null while it never changed. */
  reachableChangedAt: string | null;
  /** Why the cluster is unreachable (the informer's error, secrets removed); null while reachable. */
  unreachableReason: string | null;
  /** ISO timestamp of the last full list; null before the first. */
  syncedAt: string | null;
  /** By node name. */
  nodes: Record<string, InventoryNode>;
  /** By `namespace/name`. */
  daemonSets: Record<string, InventoryDaemonSet>;
  /** By node name (pods without a node under ""), then by `namespace/name`. */
  podsByNode: Record<string, Record<string, InventoryPod>>;
}

export interface InventoryState {
  /** By cluster id. */
  clusters: Record<string, ClusterInventory>;
}

export type InventoryEvent =
  | { type: "node-added" | "node-updated"; clusterId: string; node: InventoryNode }
  | { type: "node-deleted"; clusterId: string; name: string }
  | { type: "daemonset-added" | "daemonset-updated"; clusterId: string; daemonSet: InventoryDaemonSet }
  | { type: "daemonset-deleted"; clusterId: string; namespace: string; name: string }
  | { type: "pod-added" | "pod-updated"; clusterId: string; pod: InventoryPod }
  | { type: "pod-deleted"; clusterId: string; namespace: string; name: string }
  /** A full list (first sync or relist after 410): replaces what was known and proves the cluster reachable. */
  | {
      type: "cluster-synced";
      clusterId: string;
      at: string;
      nodes: InventoryNode[];
      daemonSets: InventoryDaemonSet[];
      pods: InventoryPod[];
    }
  | { type: "cluster-reachable"; clusterId: string; at: string }
  | { type: "cluster-unreachable"; clusterId: string; at: string; reason: string }
  /** The cluster was disconnected from Tapfleet: forget it. */
  | { type: "cluster-removed"; clusterId: string };

export const EMPTY_INVENTORY: InventoryState = { clusters: {} };

export const inventoryObjectKey = (o: { namespace: string; name: string }): string =>
  `${o.namespace}/${o.name}`;

function emptyCluster(): ClusterInventory {
  return {
    reachable: true,
    reachableChangedAt: null,
    unreachableReason: null,
    syncedAt: null,
    nodes: {},
    daemonSets: {},
    podsByNode: {},
  };
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!Object.hasOwn(record, key)) return record;
  const { [key]: _removed, ...rest } = record;
  return rest;
}

function removePod(podsByNode: ClusterInventory["podsByNode"], key: string): ClusterInventory["podsByNode"] {
  for (const [nodeName, pods] of Object.entries(podsByNode)) {
    if (!Object.hasOwn(pods, key)) continue;
    const rest = without(pods, key);
    return Object.keys(rest).length === 0
      ? without(podsByNode, nodeName)
      : { ...podsByNode, [nodeName]: rest };
  }
  return podsByNode;
}

function addPod(
  podsByNode: ClusterInventory["podsByNode"],
  pod: InventoryPod,
): ClusterInventory["podsByNode"] {
  // A pod moves when it is bound to another node than it was pinned to; drop it wherever it was.
  const rest = removePod(podsByNode, inventoryObjectKey(pod));
  const nodeName = pod.nodeName ?? "";
  return { ...rest, [nodeName]: { ...rest[nodeName], [inventoryObjectKey(pod)]: pod } };
}

/** What folding addPod over `pods` gives, in one pass: a full list of 5,000 pods must not copy the map per pod. */
function groupPodsByNode(pods: readonly InventoryPod[]): ClusterInventory["podsByNode"] {
  const byNode: ClusterInventory["podsByNode"] = {};
  const nodeOf = new Map<string, string>();
  for (const pod of pods) {
    const key = inventoryObjectKey(pod);
    const before = nodeOf.get(key);
    if (before !== undefined) {
      delete byNode[before]![key];
      if (Object.keys(byNode[before]!).length === 0) delete byNode[before];
    }
    const nodeName = pod.nodeName ?? "";
    (byNode[nodeName] ??= {})[key] = pod;
    nodeOf.set(key, nodeName);
  }
  return byNode;
}

function reachability(cluster: ClusterInventory, reachable: boolean, at: string, reason: string | null) {
  return {
    reachable,
    reachableChangedAt: cluster.reachable === reachable ? cluster.reachableChangedAt : at,
    unreachableReason: reason,
  };
}

/** The state after one informer event. Pure: the input state is not changed. */
export function applyInventoryEvent(state: InventoryState, event: InventoryEvent): InventoryState {
  if (event.type === "cluster-removed") return { clusters: without(state.clusters, event.clusterId) };
  const cluster = state.clusters[event.clusterId] ?? emptyCluster();
  let next: ClusterInventory;
  switch (event.type) {
    case "node-added":
    case "node-updated":
      next = { ...cluster, nodes: { ...cluster.nodes, [event.node.name]: event.node } };
      break;
    case "node-deleted":
      next = { ...cluster, nodes: without(cluster.nodes, event.name) };
      break;
    case "daemonset-added":
    case "daemonset-updated":
      next = {
        ...cluster,
        daemonSets: { ...cluster.daemonSets, [inventoryObjectKey(event.daemonSet)]: event.daemonSet },
      };
      break;
    case "daemonset-deleted":
      next = { ...cluster, daemonSets: without(cluster.daemonSets, inventoryObjectKey(event)) };
      break;
    case "pod-added":
    case "pod-updated":
      next = { ...cluster, podsByNode: addPod(cluster.podsByNode, event.pod) };
      break;
    case "pod-deleted":
      next = { ...cluster, podsByNode: removePod(cluster.podsByNode, inventoryObjectKey(event)) };
      break;
    case "cluster-synced":
      next = {
        ...reachability(cluster, true, event.at, null),
        syncedAt: event.at,
        nodes: Object.fromEntries(event.nodes.map((node) => [node.name, node])),
        daemonSets: Object.fromEntries(event.daemonSets.map((ds) => [inventoryObjectKey(ds), ds])),
        podsByNode: groupPodsByNode(event.pods),
      };
      break;
    case "cluster-reachable":
      next = { ...cluster, ...reachability(cluster, true, event.at, null) };
      break;
    case "cluster-unreachable":
      next = { ...cluster, ...reachability(cluster, false, event.at, event.reason) };
      break;
  }
  return { clusters: { ...state.clusters, [event.clusterId]: next } };
}

/** Builds the inventory from a list of events (a replay, or a test's fixture). */
export function buildInventory(events: Iterable<InventoryEvent>, initial = EMPTY_INVENTORY): InventoryState {
  let state = initial;
  for (const event of events) state = applyInventoryEvent(state, event);
  return state;
}
