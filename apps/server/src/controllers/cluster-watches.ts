// The leader's cluster watches, shared: the inventory controller starts one
// per connected cluster and registers it here; other leader controllers (the
// rollouts) read its objects and hear its events instead of reading the
// cluster's API themselves.

import type { ClusterWatch, ClusterWatchEvent } from "@tapfleet/kube";

/** What a controller may use of a registered watch: its state and its events, not its lifetime. */
export type SharedClusterWatch = Pick<
  ClusterWatch,
  "synced" | "status" | "daemonSets" | "pods" | "subscribe"
>;

export interface ClusterWatches {
  /** The watch of a cluster, while the leader has one. */
  get(clusterId: string): SharedClusterWatch | undefined;
  /** Hears every registered watch's events; returns the unsubscribe. */
  subscribe(listener: (clusterId: string, event: ClusterWatchEvent) => void): () => void;
  /** Registers a cluster's watch (replacing one before it); returns its removal. */
  add(clusterId: string, watch: SharedClusterWatch): () => void;
}

export function createClusterWatches(): ClusterWatches {
  const watches = new Map<string, { watch: SharedClusterWatch; unsubscribe: () => void }>();
  const listeners = new Set<(clusterId: string, event: ClusterWatchEvent) => void>();
  return {
    get: (clusterId) => watches.get(clusterId)?.watch,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    add(clusterId, watch) {
      watches.get(clusterId)?.unsubscribe();
      const unsubscribe = watch.subscribe((event) => {
        for (const listener of listeners) listener(clusterId, event);
      });
      const entry = { watch, unsubscribe };
      watches.set(clusterId, entry);
      // A registered watch is news too (a new leader's first look, a connection replaced).
      for (const listener of listeners) listener(clusterId, { type: "status", status: watch.status });
      return () => {
        entry.unsubscribe();
        if (watches.get(clusterId) === entry) watches.delete(clusterId);
      };
    },
  };
}
