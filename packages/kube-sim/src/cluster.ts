// One simulated cluster: the object store, the controllers a real control plane
// runs for our resources (DaemonSet controller, scheduler, node lifecycle) and
// the kubelets, plus the test controls (add/remove/taint nodes, NotReady, crash
// loops). The HTTP server (server.ts) serves `cluster.store` and `cluster.logs`.

import { randomUUID } from "node:crypto";
import type { Clock, KubeObject, StoreEvent } from "./types.ts";
import { systemClock } from "./types.ts";
import { isApiError } from "./errors.ts";
import { createObjectStore, formatTimestamp, type SimObjectStore } from "./store.ts";
import { startDaemonSetController, type DaemonSetController } from "./controllers/daemonset.ts";
import {
  startKubelet,
  type ContainerContext,
  type CrashSpec,
  type ExecProbeHook,
  type ImageCommand,
  type Kubelet,
  type LogOptions,
  type PodMatcher,
  type SpawnFunction,
} from "./controllers/kubelet.ts";
import { startScheduler, type Scheduler } from "./controllers/scheduler.ts";
import { startEventExpiry } from "./controllers/event-expiry.ts";
import { NOT_READY, startNodeHeartbeats, type NodeHeartbeats } from "./controllers/node-heartbeats.ts";
import type { Taint } from "./controllers/scheduling.ts";
import { createWorkQueue } from "./controllers/work-queue.ts";

export type { Taint } from "./controllers/scheduling.ts";
export type {
  ImageCommand,
  CrashSpec,
  ExecProbeHook,
  ProbeResult,
  ContainerContext,
  PodMatcher,
  LogOptions,
  SpawnFunction,
} from "./controllers/kubelet.ts";

export const KUBELET_VERSION = "v1.32.2";

export interface NodeSpec {
  name: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  /** `amd64` (default) or `arm64`. */
  arch?: string;
}

export interface SimClusterOptions {
  /** A node count (named node-1, node-2, …) or explicit nodes. Default 3. */
  nodes?: number | readonly (string | NodeSpec)[];
  /** `fake` (default) pretends to run containers; `process` runs them as local processes. */
  kubelet?: "fake" | "process";
  /** Binding → Running/Ready delay. Default 0. */
  readyDelayMs?: number;
  /** Process mode: image name → command. */
  imageTable?: Record<string, ImageCommand>;
  /** Process mode: environment every container starts with (PATH, …). */
  baseEnv?: Record<string, string>;
  /** Process mode: injectable spawn (tests). */
  spawn?: SpawnFunction;
  /** Log bytes kept per container instance. Default 256 KiB. */
  logLimitBytes?: number;
  /** Crash containers for which this says so, e.g. when a required variable is missing. */
  crashWhen?: (ctx: ContainerContext) => boolean | CrashSpec;
  /** Fake mode: how long a crashing container runs. Default 1 s. */
  crashAfterMs?: number;
  /** Fake mode: an exec readiness probe's verdict (default success); process mode runs the command. */
  execProbe?: ExecProbeHook;
  /** CrashLoopBackOff base. Default 10 s. */
  backOffBaseMs?: number;
  /**
   * Fake mode: how long a container takes to stop after SIGTERM when its pod is
   * deleted (at most the grace period; past it the container is killed, exit 137).
   * The pod stays visible, Terminating, meanwhile. Default 0.
   */
  containerStopMs?: number;
  clock?: Clock;
  /** Record core/v1 Events (scheduler, kubelet, DaemonSet controller). Default true. */
  recordEvents?: boolean;
  /** An Event is deleted this long after it was last written, as the API server's --event-ttl. Default 1 h. */
  eventTTLMs?: number;
  /** Watch history the store keeps. Default 10,000 events. */
  historyLimit?: number;
  /** Controller errors (default: printed to stderr). */
  onError?: (err: unknown) => void;
  /**
   * Kubelet heartbeats (node Lease renewals and periodic node status posts) and
   * the node lifecycle controller's grace period. Default true.
   */
  heartbeats?: boolean;
  /** Each kubelet renews its Lease in kube-node-lease this often. Default 10 s. */
  leaseRenewIntervalMs?: number;
  /** An unchanged node status is posted this often. Default 5 min. */
  nodeStatusReportFrequencyMs?: number;
  /**
   * The initial nodes' kubelets have run for a while: their periodic status posts are
   * spread evenly over the report period from the start (see NodeHeartbeatOptions).
   */
  establishedNodes?: boolean;
  /** Without a lease renewal for this long a node goes Unknown and is tainted unreachable. Default 40 s. */
  nodeMonitorGracePeriodMs?: number;
  /** How often the node lifecycle controller checks leases. Default 5 s. */
  nodeMonitorPeriodMs?: number;
}

export interface SimCluster {
  store: SimObjectStore;
  clock: Clock;
  kubelet: Kubelet;
  daemonSets: DaemonSetController;
  /** For the HTTP layer's `pods/<name>/log` (shape of http/logs.ts LogSource). */
  logs: {
    getLogs(request: {
      namespace: string;
      pod: string;
      container?: string;
      previous?: boolean;
      tailLines?: number | undefined;
    }): string;
  };
  getLogs(namespace: string, pod: string, options?: LogOptions): string;
  addNode(name: string, options?: Omit<NodeSpec, "name">): KubeObject;
  removeNode(name: string): void;
  taint(name: string, taint: Taint): void;
  untaint(name: string, key: string, effect?: Taint["effect"]): void;
  /** The kubelet reports NotReady (or Ready again) at once: Ready=False, not-ready taints, the node's pods become not ready. */
  setNodeReady(name: string, ready: boolean): void;
  /**
   * The node's kubelet stops: no lease renewals, status posts or pod work. After
   * the node monitor grace period the node's conditions turn Unknown and it is
   * tainted unreachable (needs `heartbeats`, the default).
   */
  stopNodeKubelet(name: string): void;
  /** The node's kubelet starts again: lease renewed and status posted at once. */
  startNodeKubelet(name: string): void;
  /** Heartbeats, when on. */
  heartbeats: NodeHeartbeats | undefined;
  setCrashLoop(matcher: PodMatcher, crash?: boolean | CrashSpec): void;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Nodes

let nodeSerial = 0;

/** A Node object as a kubelet registers it. */
export function makeNode(spec: NodeSpec, now: number): KubeObject {
  nodeSerial++;
  const arch = spec.arch ?? "amd64";
  const time = formatTimestamp(now);
  const n = nodeSerial;
  const ip = `10.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256 || 1}`;
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: time,
    lastTransitionTime: time,
    reason,
    message,
  });
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: spec.name,
      labels: {
        "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": spec.name,
        "kubernetes.io/os": "linux",
        ...spec.labels,
      },
      annotations: {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec: {
      podCIDR: `10.244.${n % 256}.0/24`,
      podCIDRs: [`10.244.${n % 256}.0/24`],
      ...(spec.taints && spec.taints.length > 0 ? { taints: spec.taints } : {}),
    },
    status: {
      capacity: {
        cpu: "4",
        "ephemeral-storage": "103680420Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: "16385852Ki",
        pods: "110",
      },
      allocatable: {
        cpu: "4",
        "ephemeral-storage": "95551679124",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: "16283452Ki",
        pods: "110",
      },
      conditions: [
        cond(
          "MemoryPressure",
          "False",
          "KubeletHasSufficientMemory",
          "kubelet has sufficient memory available",
        ),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
      ],
      addresses: [
        { type: "InternalIP", address: ip },
        { type: "Hostname", address: spec.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: randomUUID().replaceAll("-", ""),
        systemUUID: randomUUID(),
        bootID: randomUUID(),
        kernelVersion: "6.1.0-28-cloud-amd64",
        osImage: "Debian GNU/Linux 12 (bookworm)",
        containerRuntimeVersion: "containerd://1.7.24",
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: "linux",
        architecture: arch,
      },
    },
  };
}

const MANAGED_TAINTS = new Set([
  "node.kubernetes.io/not-ready",
  "node.kubernetes.io/unreachable",
  "node.kubernetes.io/unschedulable",
]);

/** The Ready condition's status: "True", "False", "Unknown" (no condition counts as Unknown). */
function readyStatus(node: KubeObject): string {
  const conditions = (Array.isArray(node.status?.conditions) ? node.status.conditions : []) as Array<{
    type: string;
    status: string;
  }>;
  return conditions.find((c) => c.type === "Ready")?.status ?? "Unknown";
}

/**
 * The taints the control plane keeps on a node: TaintNodesByCondition and the
 * node lifecycle controller's NoExecute taint for NotReady, and `unschedulable`
 * for cordoned nodes. Other taints are the user's.
 */
export function desiredTaints(node: KubeObject, now: number): Taint[] {
  const current = (Array.isArray(node.spec?.taints) ? node.spec.taints : []) as Taint[];
  const out = current.filter((t) => !MANAGED_TAINTS.has(t.key));
  const keep = (key: string, effect: Taint["effect"], timeAdded: boolean): void => {
    const existing = current.find((t) => t.key === key && t.effect === effect);
    out.push(existing ?? { key, effect, ...(timeAdded ? { timeAdded: formatTimestamp(now) } : {}) });
  };
  if (node.spec?.unschedulable === true) keep("node.kubernetes.io/unschedulable", "NoSchedule", true);
  const ready = readyStatus(node);
  // Ready=False: the kubelet says so (not-ready); Unknown: the kubelet went silent (unreachable).
  if (ready === "False") {
    keep("node.kubernetes.io/not-ready", "NoSchedule", false);
    keep("node.kubernetes.io/not-ready", "NoExecute", true);
  } else if (ready !== "True") {
    keep("node.kubernetes.io/unreachable", "NoSchedule", false);
    keep("node.kubernetes.io/unreachable", "NoExecute", true);
  }
  return out;
}

// ---------------------------------------------------------------------------

/** Builds a running simulated cluster. */
export function createSimCluster(options: SimClusterOptions = {}): SimCluster {
  const clock = options.clock ?? systemClock;
  const onError = options.onError ?? ((err: unknown) => console.error(err));
  const recordEvents = options.recordEvents ?? true;
  const store = createObjectStore({
    clock,
    ...(options.historyLimit !== undefined ? { historyLimit: options.historyLimit } : {}),
  });

  store.create("serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "default", namespace: "default" },
  });
  const nodeSpecs: NodeSpec[] =
    typeof options.nodes === "number" || options.nodes === undefined
      ? Array.from({ length: options.nodes ?? 3 }, (_, i) => ({ name: `node-${i + 1}` }))
      : options.nodes.map((n) => (typeof n === "string" ? { name: n } : n));
  for (const spec of nodeSpecs) store.create("nodes", makeNode(spec, clock.now()));

  // Node lifecycle: keep the managed taints in line with readiness and cordoning.
  const nodeQueue = createWorkQueue({
    clock,
    batchSize: 500,
    onError: (key, err) => onError(new Error(`node controller syncing ${key}`, { cause: err })),
    process(name) {
      const node = store.get("nodes", undefined, name);
      if (!node) {
        // PodGC: pods bound to a node that no longer exists have no kubelet to finish them.
        for (const pod of store.podsOnNode(name)) {
          try {
            store.delete("pods", pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0 });
          } catch (err) {
            if (!isApiError(err, "NotFound")) throw err;
          }
        }
        return;
      }
      const taints = desiredTaints(node, clock.now());
      const current = Array.isArray(node.spec?.taints) ? node.spec.taints : [];
      if (JSON.stringify(taints) === JSON.stringify(current)) return;
      const spec = { ...node.spec };
      if (taints.length === 0) delete spec.taints;
      else spec.taints = taints;
      store.update("nodes", { ...node, spec });
    },
  });
  const unsubscribeNodes = store.subscribe((e: StoreEvent) => {
    if (e.resource === "nodes") nodeQueue.add(e.object.metadata.name!);
    else if (
      e.resource === "pods" &&
      e.type !== "DELETED" &&
      e.object.metadata.deletionTimestamp !== undefined
    ) {
      const nodeName = e.object.spec?.nodeName;
      if (typeof nodeName === "string" && nodeName !== "" && !store.get("nodes", undefined, nodeName))
        nodeQueue.add(nodeName);
    }
  });
  for (const spec of nodeSpecs) nodeQueue.add(spec.name);

  const scheduler: Scheduler = startScheduler({ store, clock, recordEvents });
  const kubelet = startKubelet({
    store,
    clock,
    mode: options.kubelet ?? "fake",
    recordEvents,
    onError,
    ...(options.readyDelayMs !== undefined ? { readyDelayMs: options.readyDelayMs } : {}),
    ...(options.imageTable ? { imageTable: options.imageTable } : {}),
    ...(options.baseEnv ? { baseEnv: options.baseEnv } : {}),
    ...(options.spawn ? { spawn: options.spawn } : {}),
    ...(options.logLimitBytes !== undefined ? { logLimitBytes: options.logLimitBytes } : {}),
    ...(options.crashWhen ? { crashWhen: options.crashWhen } : {}),
    ...(options.crashAfterMs !== undefined ? { crashAfterMs: options.crashAfterMs } : {}),
    ...(options.execProbe ? { execProbe: options.execProbe } : {}),
    ...(options.backOffBaseMs !== undefined ? { backOffBaseMs: options.backOffBaseMs } : {}),
    ...(options.containerStopMs !== undefined ? { stopAfterMs: options.containerStopMs } : {}),
    // A stopped kubelet does no pod work; `heartbeats` is assigned below, before any sync runs.
    nodeKubeletRunning: (nodeName) => heartbeats?.kubeletRunning(nodeName) ?? true,
  });
  const daemonSets = startDaemonSetController({ store, clock, recordEvents, onError });
  const eventExpiry = startEventExpiry({
    store,
    clock,
    onError,
    ...(options.eventTTLMs !== undefined ? { ttlMs: options.eventTTLMs } : {}),
  });
  const heartbeats: NodeHeartbeats | undefined =
    options.heartbeats === false
      ? undefined
      : startNodeHeartbeats({
          store,
          clock,
          onError,
          ...(options.leaseRenewIntervalMs !== undefined
            ? { leaseRenewIntervalMs: options.leaseRenewIntervalMs }
            : {}),
          ...(options.nodeStatusReportFrequencyMs !== undefined
            ? { nodeStatusReportFrequencyMs: options.nodeStatusReportFrequencyMs }
            : {}),
          ...(options.establishedNodes !== undefined ? { establishedNodes: options.establishedNodes } : {}),
          ...(options.nodeMonitorGracePeriodMs !== undefined
            ? { nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs }
            : {}),
          ...(options.nodeMonitorPeriodMs !== undefined
            ? { nodeMonitorPeriodMs: options.nodeMonitorPeriodMs }
            : {}),
        });

  function mustGetNode(name: string): KubeObject {
    const node = store.get("nodes", undefined, name);
    if (!node) throw new Error(`no node ${name} in the simulated cluster`);
    return node;
  }

  function setSpecTaints(name: string, change: (taints: Taint[]) => Taint[]): void {
    const node = mustGetNode(name);
    const taints = change((Array.isArray(node.spec?.taints) ? node.spec.taints : []) as Taint[]);
    const spec = { ...node.spec };
    if (taints.length === 0) delete spec.taints;
    else spec.taints = taints;
    store.update("nodes", { ...node, spec });
  }

  return {
    store,
    clock,
    kubelet,
    daemonSets,
    heartbeats,
    logs: {
      getLogs: (r) =>
        kubelet.getLogs(r.namespace, r.pod, {
          container: r.container,
          previous: r.previous,
          tailLines: r.tailLines,
        }),
    },
    getLogs: (namespace, pod, logOptions) => kubelet.getLogs(namespace, pod, logOptions),

    addNode(name, nodeOptions = {}) {
      return store.create("nodes", makeNode({ name, ...nodeOptions }, clock.now()));
    },

    removeNode(name) {
      try {
        store.delete("nodes", undefined, name);
      } catch (err) {
        if (!isApiError(err, "NotFound")) throw err;
      }
    },

    taint(name, taint) {
      setSpecTaints(name, (taints) => [
        ...taints.filter((t) => !(t.key === taint.key && t.effect === taint.effect)),
        taint,
      ]);
    },

    untaint(name, key, effect) {
      setSpecTaints(name, (taints) =>
        taints.filter((t) => !(t.key === key && (effect === undefined || t.effect === effect))),
      );
    },

    setNodeReady(name, ready) {
      const node = mustGetNode(name);
      const time = formatTimestamp(clock.now());
      const conditions = ((node.status?.conditions ?? []) as Array<Record<string, unknown>>).map((c) => {
        if (c.type !== "Ready") return c;
        const reported = ready
          ? { status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" }
          : NOT_READY;
        return {
          ...c,
          ...reported,
          lastHeartbeatTime: time,
          lastTransitionTime: c.status === reported.status ? c.lastTransitionTime : time,
        };
      });
      heartbeats?.setReportedReady(name, ready);
      store.update("nodes", { ...node, status: { ...node.status, conditions } }, { subresource: "status" });
      kubelet.resyncNode(name);
    },

    stopNodeKubelet(name) {
      mustGetNode(name);
      if (!heartbeats)
        throw new Error("stopNodeKubelet needs heartbeats (createSimCluster({ heartbeats: true }))");
      heartbeats.stopKubelet(name);
    },

    startNodeKubelet(name) {
      mustGetNode(name);
      if (!heartbeats)
        throw new Error("startNodeKubelet needs heartbeats (createSimCluster({ heartbeats: true }))");
      heartbeats.startKubelet(name);
      kubelet.resyncNode(name);
    },

    setCrashLoop(matcher, crash) {
      kubelet.setCrashLoop(matcher, crash);
    },

    async stop() {
      heartbeats?.stop();
      eventExpiry.stop();
      unsubscribeNodes();
      nodeQueue.stop();
      scheduler.stop();
      daemonSets.stop();
      await kubelet.stop();
    },
  };
}
