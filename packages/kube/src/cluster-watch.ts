// Everything Tapfleet watches in one cluster: nodes, sensor DaemonSets and the
// pods of each sensor DaemonSet, plus whether the cluster answers at all.
// An update that changes nothing of the trimmed object (a kubelet's status post
// every 5 minutes: 17 a second from a 5,000-node cluster) is kept, not announced.

import type { KubeConfig } from "@kubernetes/client-node";
import { createBackoff, type BackoffOptions } from "./backoff.ts";
import { systemClock, type Clock } from "./clock.ts";
import {
  createInformer,
  type Informer,
  type InformerErrorReason,
  type ListLimit,
  type ListPage,
} from "./informer.ts";
import {
  labelSelectorString,
  trimNode,
  trimPod,
  trimSensorDaemonSet,
  type KubeDaemonSet,
  type KubeNode,
  type KubePod,
} from "./objects.ts";
import { versionOnlyChange, type StoreChange, type Versioned } from "./reducer.ts";
import { createKubeTransport, describe, type FetchLike, type KubeTransport } from "./transport.ts";

export type ClusterReachability = "connecting" | "reachable" | "unreachable";

export interface ClusterStatus {
  state: ClusterReachability;
  /** When the state last changed (clock milliseconds). */
  since: number;
  /** `gitVersion` from /version, once known. */
  serverVersion: string | undefined;
  /** The last error seen by any watch or probe, also while reachable (a throttled relist, say). */
  lastError: string | undefined;
  lastErrorAt: number | undefined;
}

export type WatchedResource = "node" | "daemonSet" | "pod";

export type ClusterWatchEvent =
  | ({ resource: "node" } & StoreChange<KubeNode>)
  | ({ resource: "daemonSet" } & StoreChange<KubeDaemonSet>)
  | ({ resource: "pod" } & StoreChange<KubePod>)
  | { type: "synced"; resource: WatchedResource }
  | { type: "status"; status: ClusterStatus }
  | {
      type: "error";
      resource: WatchedResource;
      reason: InformerErrorReason;
      message: string;
      retryInMs: number;
    };

export interface ClusterWatchOptions {
  kubeConfig: KubeConfig;
  /** Our id for the cluster, named in errors. */
  clusterId: string;
  fetch?: FetchLike | undefined;
  clock?: Clock | undefined;
  backoff?: BackoffOptions | undefined;
  pageSize?: number | undefined;
  /** See InformerOptions.listLimit: shared by many clusters, it caps how many lists are read at once. */
  listLimit?: ListLimit | undefined;
  /** See InformerOptions.probeAfterMs (default 7 s). */
  probeAfterMs?: number | undefined;
  /** See InformerOptions.quietAfterMs (default 90 s). */
  quietAfterMs?: number | undefined;
  /** How long a /version probe may take before the cluster counts as unreachable. Default 2 s. */
  probeTimeoutMs?: number | undefined;
  /**
   * How long one page of a list may take before the list fails (and is tried again after the
   * backoff). Default 60 s. With a list limit shared by many clusters, a cluster whose API stops
   * answering mid-list would otherwise hold its slot, and every other cluster's first list, for as
   * long as the HTTP client's own 5-minute limits.
   */
  listPageTimeoutMs?: number | undefined;
}

/** The default of ClusterWatchOptions.listPageTimeoutMs. */
export const LIST_PAGE_TIMEOUT_MS = 60_000;

export interface ClusterWatch {
  readonly clusterId: string;
  readonly status: ClusterStatus;
  readonly synced: boolean;
  nodes(): KubeNode[];
  daemonSets(): KubeDaemonSet[];
  /** Pods of the sensor DaemonSets. */
  pods(): KubePod[];
  subscribe(listener: (event: ClusterWatchEvent) => void): () => void;
  /** Resolves once nodes, DaemonSets and the pods of every sensor DaemonSet are listed. */
  whenSynced(): Promise<void>;
  stop(): Promise<void>;
}

function listPath(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, v);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function resourceAccess(
  transport: KubeTransport,
  path: string,
  labelSelector?: string,
  pageTimeoutMs: number = LIST_PAGE_TIMEOUT_MS,
) {
  return {
    async list(request: {
      limit: number;
      continue: string | undefined;
      signal: AbortSignal;
    }): Promise<ListPage> {
      const body = (await transport.getJson(
        listPath(path, { labelSelector, limit: String(request.limit), continue: request.continue }),
        { signal: AbortSignal.any([request.signal, AbortSignal.timeout(pageTimeoutMs)]) },
      )) as { items?: unknown[]; metadata?: { resourceVersion?: string; continue?: string } };
      return {
        items: body.items ?? [],
        resourceVersion: body.metadata?.resourceVersion ?? "",
        continue: body.metadata?.continue,
      };
    },
    watch(request: { resourceVersion: string; timeoutSeconds: number; signal: AbortSignal }) {
      return transport.getLines(
        listPath(path, {
          labelSelector,
          watch: "true",
          allowWatchBookmarks: "true",
          resourceVersion: request.resourceVersion,
          timeoutSeconds: String(request.timeoutSeconds),
        }),
        { signal: request.signal },
      );
    },
  };
}

/**
 * Starts watching one cluster (the kubeconfig's current context).
 *
 * Pods are watched per sensor DaemonSet, in its namespace with its own selector
 * (then kept only when the DaemonSet controls them), not cluster-wide: a
 * cluster-wide pods watch would make us list and receive every pod of a
 * 100,000-pod cluster to keep a few thousand, and a pod arriving before its
 * DaemonSet would need a relist. DaemonSet selectors are immutable, so a pods
 * informer lives exactly as long as its DaemonSet.
 */
export function startClusterWatch(options: ClusterWatchOptions): ClusterWatch {
  const { clusterId } = options;
  const clock = options.clock ?? systemClock;
  const transport = createKubeTransport({ kubeConfig: options.kubeConfig, fetch: options.fetch });
  const probeTimeoutMs = options.probeTimeoutMs ?? 2_000;
  const listeners = new Set<(event: ClusterWatchEvent) => void>();
  const stopping = new AbortController();
  let status: ClusterStatus = {
    state: "connecting",
    since: clock.now(),
    serverVersion: undefined,
    lastError: undefined,
    lastErrorAt: undefined,
  };

  const emit = (event: ClusterWatchEvent): void => {
    for (const listener of listeners) listener(event);
  };
  const setStatus = (change: Partial<ClusterStatus>): void => {
    const next = { ...status, ...change };
    if (change.state !== undefined && change.state !== status.state) next.since = clock.now();
    status = next;
    emit({ type: "status", status });
  };

  // ---- reachability: a /version probe, only when a watch is in trouble --------
  let probing: Promise<void> | undefined;
  function probe(): Promise<void> {
    probing ??= (async () => {
      try {
        const signal = AbortSignal.any([stopping.signal, AbortSignal.timeout(probeTimeoutMs)]);
        const version = (await transport.getJson("/version", { signal })) as { gitVersion?: string };
        if (status.state !== "reachable" || status.serverVersion !== version.gitVersion)
          setStatus({ state: "reachable", serverVersion: version.gitVersion });
      } catch (error) {
        if (stopping.signal.aborted) return;
        const message = `cluster ${clusterId} does not answer at ${transport.server}: ${describe(error)}`;
        setStatus({ state: "unreachable", lastError: message, lastErrorAt: clock.now() });
        throw new Error(message, { cause: error });
      } finally {
        probing = undefined;
      }
    })();
    return probing;
  }

  // ---- informers ---------------------------------------------------------------
  function makeInformer<T extends Versioned>(
    resource: WatchedResource,
    what: string,
    access: ReturnType<typeof resourceAccess>,
    trim: (raw: unknown) => T | undefined,
    key?: (raw: unknown) => string,
  ): Informer<T> {
    const informer = createInformer<T>({
      name: `${what} in cluster ${clusterId}`,
      ...access,
      trim,
      key,
      clock,
      backoff: createBackoff(options.backoff),
      pageSize: options.pageSize,
      listLimit: options.listLimit,
      probeAfterMs: options.probeAfterMs,
      quietAfterMs: options.quietAfterMs,
      probe: () => probe(),
    });
    informer.subscribe((event) => {
      switch (event.type) {
        case "connected":
          if (status.state !== "reachable") setStatus({ state: "reachable" });
          return;
        case "synced":
          if (status.state !== "reachable") setStatus({ state: "reachable" });
          emit({ type: "synced", resource });
          return;
        case "error":
          setStatus({ lastError: event.error.message, lastErrorAt: clock.now() });
          emit({
            type: "error",
            resource,
            reason: event.reason,
            message: event.error.message,
            retryInMs: event.retryInMs,
          });
          // A refused or reset connection, a 5xx: ask /version whether the server is there at all.
          if (event.reason === "request") probe().catch(() => undefined);
          return;
        case "updated":
          // The store has the new resourceVersion; consumers hear only of what they can see.
          if (versionOnlyChange(event.previous, event.object)) return;
          emit({ resource, ...event } as unknown as ClusterWatchEvent);
          return;
        default:
          emit({ resource, ...event } as unknown as ClusterWatchEvent);
      }
    });
    return informer;
  }

  const nodeName = (raw: unknown): string => (raw as { metadata?: { name?: string } }).metadata?.name ?? "";
  const nodes = makeInformer(
    "node",
    "nodes",
    resourceAccess(transport, "/api/v1/nodes", undefined, options.listPageTimeoutMs),
    trimNode,
    nodeName,
  );
  const podInformers = new Map<string, Informer<KubePod>>();

  function startPods(daemonSet: KubeDaemonSet): void {
    if (podInformers.has(daemonSet.uid)) return;
    const access = resourceAccess(
      transport,
      `/api/v1/namespaces/${encodeURIComponent(daemonSet.namespace)}/pods`,
      labelSelectorString(daemonSet.selector),
      options.listPageTimeoutMs,
    );
    const trim = (raw: unknown): KubePod | undefined => {
      const pod = trimPod(raw);
      return pod.daemonSetUid === daemonSet.uid ? pod : undefined;
    };
    podInformers.set(
      daemonSet.uid,
      makeInformer("pod", `pods of DaemonSet ${daemonSet.namespace}/${daemonSet.name}`, access, trim),
    );
  }

  function stopPods(daemonSet: KubeDaemonSet): void {
    const informer = podInformers.get(daemonSet.uid);
    if (!informer) return;
    podInformers.delete(daemonSet.uid);
    void informer.stop();
    for (const [key, pod] of informer.store) emit({ resource: "pod", type: "deleted", key, object: pod });
  }

  const daemonSets = makeInformer(
    "daemonSet",
    "sensor DaemonSets",
    resourceAccess(transport, "/apis/apps/v1/daemonsets", undefined, options.listPageTimeoutMs),
    trimSensorDaemonSet,
  );
  daemonSets.subscribe((event) => {
    if (event.type === "added") startPods(event.object);
    else if (event.type === "deleted") stopPods(event.object);
    else if (event.type === "updated" && event.previous.uid !== event.object.uid) {
      stopPods(event.previous);
      startPods(event.object);
    }
  });

  // The server's version once at the start; later only when a watch is in trouble.
  probe().catch(() => undefined);

  const allSynced = (): boolean =>
    nodes.synced && daemonSets.synced && [...podInformers.values()].every((informer) => informer.synced);

  return {
    clusterId,
    get status() {
      return status;
    },
    get synced() {
      return allSynced();
    },
    nodes: () => [...nodes.store.values()],
    daemonSets: () => [...daemonSets.store.values()],
    pods: () => [...podInformers.values()].flatMap((informer) => [...informer.store.values()]),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async whenSynced() {
      await Promise.all([nodes.whenSynced(), daemonSets.whenSynced()]);
      // Pod informers start as DaemonSets arrive; wait for the ones that exist after the DaemonSet list.
      await Promise.all([...podInformers.values()].map((informer) => informer.whenSynced()));
    },
    async stop() {
      stopping.abort();
      await Promise.all([
        nodes.stop(),
        daemonSets.stop(),
        ...[...podInformers.values()].map((i) => i.stop()),
      ]);
      await transport.close();
    },
  };
}
