// Node heartbeats and the node lifecycle controller's view of them.
//
// Each node's kubelet renews a coordination.k8s.io/v1 Lease named after the node
// in kube-node-lease every `leaseRenewIntervalMs` (10 s), and posts its node
// status only when it changes or every `nodeStatusReportFrequencyMs` (5 min), as
// real kubelets do since NodeLease. The lifecycle monitor checks every
// `nodeMonitorPeriodMs` (5 s) when it last saw each node's lease renewed; after
// `nodeMonitorGracePeriodMs` (40 s) without one, it sets the node's conditions to
// Unknown ("Kubelet stopped posting node status.") and the cluster's node
// controller taints it unreachable.
//
// All of it runs off one recurring timer on the cluster's clock: nodes are spread
// over the renewal period, so 5,000 nodes cost one timer and a steady ~500 lease
// writes per second, not 5,000 timers.

import { createHash } from "node:crypto";
import type { Clock, KubeObject, StoreEvent } from "../types.ts";
import { formatTimestamp, type SimObjectStore } from "../store.ts";

type Json = Record<string, unknown>;

export const NODE_LEASE_NAMESPACE = "kube-node-lease";
const LEASE_DURATION_SECONDS = 40;

export interface NodeHeartbeatOptions {
  store: SimObjectStore;
  clock: Clock;
  /** Lease renewal period of every kubelet. Default 10 s. */
  leaseRenewIntervalMs?: number;
  /** How often an unchanged node status is posted anyway. Default 5 min. */
  nodeStatusReportFrequencyMs?: number;
  /** How long a node may go without a lease renewal before its status is Unknown. Default 40 s. */
  nodeMonitorGracePeriodMs?: number;
  /** How often the lifecycle monitor looks. Default 5 s. */
  nodeMonitorPeriodMs?: number;
  /**
   * The nodes present at the start are those of a cluster that has run for a while:
   * their first unchanged-status post comes anywhere within one report period (spread
   * evenly, a steady stream), not all within a tenth of a period after a full one (a
   * cluster whose kubelets all just started). Default false.
   */
  establishedNodes?: boolean;
  onError?: (err: unknown) => void;
}

export interface NodeHeartbeats {
  /** The node's kubelet stops: no lease renewals, no status posts. */
  stopKubelet(name: string): void;
  /** The node's kubelet starts again: renews its lease and posts its status at once. */
  startKubelet(name: string): void;
  /**
   * What the node's kubelet reports as Ready (false: e.g. the network plugin is
   * broken); its later status posts keep reporting it.
   */
  setReportedReady(name: string, ready: boolean): void;
  /** Whether the node's kubelet runs (true for nodes not seen yet). */
  kubeletRunning(name: string): boolean;
  /** Lease renewals and status posts written so far (for the bench). */
  writeCount(): number;
  stop(): void;
}

interface NodeState {
  running: boolean;
  reportsReady: boolean;
  /** Clock time of the next lease renewal / forced status post. */
  nextRenew: number;
  nextStatus: number;
  /** When the monitor last saw the lease renewed (its own clock, as the real controller does). */
  observedRenew: number;
}

/** MicroTime, as Lease renewTime serialises. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function conditionsOf(node: KubeObject): Json[] {
  return (Array.isArray(node.status?.conditions) ? node.status.conditions : []) as Json[];
}

/** A stable spread of nodes over a period, so renewals are steady rather than bursts. */
function offset(name: string, periodMs: number): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return h % Math.max(1, periodMs);
}

/** An even spread over a long period: node names differ in a few digits, which `offset` bunches up. */
function evenOffset(name: string, periodMs: number): number {
  return createHash("sha1").update(name).digest().readUInt32BE(0) % Math.max(1, periodMs);
}

export function startNodeHeartbeats(options: NodeHeartbeatOptions): NodeHeartbeats {
  const { store, clock } = options;
  const renewMs = options.leaseRenewIntervalMs ?? 10_000;
  const reportMs = options.nodeStatusReportFrequencyMs ?? 300_000;
  const graceMs = options.nodeMonitorGracePeriodMs ?? 40_000;
  const monitorMs = options.nodeMonitorPeriodMs ?? 5_000;
  for (const [name, value] of [
    ["leaseRenewIntervalMs", renewMs],
    ["nodeStatusReportFrequencyMs", reportMs],
    ["nodeMonitorGracePeriodMs", graceMs],
    ["nodeMonitorPeriodMs", monitorMs],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of ms`);
  }
  const tickMs = Math.min(1_000, renewMs, monitorMs);
  const nodes = new Map<string, NodeState>();
  let writes = 0;
  let nextMonitor = clock.now() + monitorMs;
  let stopped = false;
  let timer: { cancel(): void } | undefined;

  const report = (err: unknown): void => (options.onError ?? ((e) => console.error(e)))(err);

  /** A registered node's kubelet: renews now (at start) or on the next tick (nodes added later). */
  function register(name: string, renewNow: boolean): void {
    if (nodes.has(name)) return;
    const now = clock.now();
    nodes.set(name, {
      running: true,
      reportsReady: true,
      nextRenew: renewNow ? now + offset(name, renewMs) : now,
      nextStatus:
        renewNow && options.establishedNodes
          ? now + evenOffset(name, reportMs)
          : now + reportMs + offset(name, reportMs / 10),
      observedRenew: now,
    });
    if (renewNow) renewLease(name);
  }

  /** The kubelet's lease: created on its first renewal, owned by the Node so it goes with it. */
  function renewLease(name: string): void {
    const now = clock.now();
    const lease = store.get("leases", NODE_LEASE_NAMESPACE, name);
    if (lease) {
      store.update("leases", { ...lease, spec: { ...lease.spec, renewTime: microTime(now) } });
    } else {
      const node = store.get("nodes", undefined, name);
      if (!node) return;
      store.create("leases", {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: {
          name,
          namespace: NODE_LEASE_NAMESPACE,
          ownerReferences: [{ apiVersion: "v1", kind: "Node", name, uid: node.metadata.uid! }],
        },
        spec: {
          holderIdentity: name,
          leaseDurationSeconds: LEASE_DURATION_SECONDS,
          renewTime: microTime(now),
        },
      });
    }
    writes++;
  }

  /**
   * The kubelet's status post: every condition's lastHeartbeatTime moves on; a
   * condition the monitor had set to Unknown goes back to what the kubelet
   * reports (Ready stays False when the kubelet itself reports NotReady).
   */
  function postStatus(name: string): void {
    const node = store.get("nodes", undefined, name);
    if (!node) return;
    const time = formatTimestamp(clock.now());
    const reportsReady = nodes.get(name)?.reportsReady ?? true;
    const conditions = conditionsOf(node).map((c) => {
      if (c.status !== "Unknown") return { ...c, lastHeartbeatTime: time };
      const reported = c.type === "Ready" && !reportsReady ? NOT_READY : HEALTHY[String(c.type)];
      return reported ? { ...c, ...reported, lastHeartbeatTime: time, lastTransitionTime: time } : c;
    });
    store.update("nodes", { ...node, status: { ...node.status, conditions } }, { subresource: "status" });
    writes++;
  }

  /** The node lifecycle controller's tryUpdateNodeHealth for a node whose lease went stale. */
  function markUnknown(name: string): void {
    const node = store.get("nodes", undefined, name);
    if (!node) return;
    const conditions = conditionsOf(node);
    if (conditions.every((c) => c.status === "Unknown")) return;
    const time = formatTimestamp(clock.now());
    const next = conditions.map((c) =>
      c.status === "Unknown"
        ? c
        : {
            ...c,
            status: "Unknown",
            reason: "NodeStatusUnknown",
            message: "Kubelet stopped posting node status.",
            lastTransitionTime: time,
          },
    );
    store.update(
      "nodes",
      { ...node, status: { ...node.status, conditions: next } },
      { subresource: "status" },
    );
  }

  function tick(): void {
    timer = undefined;
    if (stopped) return;
    const now = clock.now();
    for (const [name, state] of nodes) {
      if (!state.running) continue;
      try {
        if (now >= state.nextRenew) {
          state.nextRenew += renewMs * Math.max(1, Math.ceil((now - state.nextRenew + 1) / renewMs));
          renewLease(name);
        }
        if (now >= state.nextStatus) {
          state.nextStatus += reportMs * Math.max(1, Math.ceil((now - state.nextStatus + 1) / reportMs));
          postStatus(name);
        }
      } catch (err) {
        report(new Error(`kubelet heartbeat of node ${name}`, { cause: err }));
      }
    }
    if (now >= nextMonitor) {
      nextMonitor = now + monitorMs;
      for (const [name, state] of nodes) {
        if (now - state.observedRenew <= graceMs) continue;
        try {
          markUnknown(name);
        } catch (err) {
          report(new Error(`node lifecycle controller marking ${name} Unknown`, { cause: err }));
        }
      }
    }
    timer = clock.setTimeout(tick, tickMs);
  }

  const unsubscribe = store.subscribe((e: StoreEvent) => {
    if (e.resource === "nodes") {
      // No write from inside a listener: the next tick creates the new node's lease.
      if (e.type === "ADDED") register(e.object.metadata.name!, false);
      else if (e.type === "DELETED") nodes.delete(e.object.metadata.name!);
    } else if (e.resource === "leases.coordination.k8s.io" && e.type !== "DELETED") {
      if (e.object.metadata.namespace !== NODE_LEASE_NAMESPACE) return;
      const state = nodes.get(e.object.metadata.name!);
      if (state) state.observedRenew = clock.now();
    }
  });
  for (const node of store.list("nodes").items) register(node.metadata.name!, true);
  timer = clock.setTimeout(tick, tickMs);

  return {
    stopKubelet(name) {
      const state = nodes.get(name);
      if (!state) throw new Error(`no node ${name} in the simulated cluster`);
      state.running = false;
    },
    startKubelet(name) {
      const state = nodes.get(name);
      if (!state) throw new Error(`no node ${name} in the simulated cluster`);
      if (state.running) return;
      state.running = true;
      const now = clock.now();
      state.nextRenew = now + renewMs;
      state.nextStatus = now + reportMs;
      renewLease(name);
      postStatus(name);
    },
    setReportedReady(name, ready) {
      const state = nodes.get(name);
      if (state) state.reportsReady = ready;
    },
    kubeletRunning: (name) => nodes.get(name)?.running ?? true,
    writeCount: () => writes,
    stop() {
      stopped = true;
      unsubscribe();
      timer?.cancel();
    },
  };
}

/** Ready as a kubelet reports it when its node is not ready. */
export const NOT_READY: Json = {
  status: "False",
  reason: "KubeletNotReady",
  message: "container runtime network not ready: NetworkReady=false",
};

/** What a healthy kubelet reports for each condition. */
const HEALTHY: Record<string, Json> = {
  MemoryPressure: {
    status: "False",
    reason: "KubeletHasSufficientMemory",
    message: "kubelet has sufficient memory available",
  },
  DiskPressure: {
    status: "False",
    reason: "KubeletHasNoDiskPressure",
    message: "kubelet has no disk pressure",
  },
  PIDPressure: {
    status: "False",
    reason: "KubeletHasSufficientPID",
    message: "kubelet has sufficient PID available",
  },
  Ready: { status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" },
};
