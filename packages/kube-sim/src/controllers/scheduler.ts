// A minimal default-scheduler: binds pending pods to a node that passes the
// filters a DaemonSet pod meets (node affinity incl. the metadata.name pin,
// NoSchedule/NoExecute taints). Daemon pods are created unbound since 1.12 and
// bound by the scheduler, so watchers see ADDED, then MODIFIED with spec.nodeName.

import type { Clock, KubeObject, StoreEvent } from "../types.ts";
import { isApiError } from "../errors.ts";
import { formatTimestamp, type SimObjectStore } from "../store.ts";
import { recordEvent } from "./events.ts";
import {
  findUntoleratedTaint,
  nodeTaints,
  podFitsNodeAffinity,
  targetNodeName,
  type Toleration,
} from "./scheduling.ts";
import { createWorkQueue } from "./work-queue.ts";

export interface SchedulerOptions {
  store: SimObjectStore;
  clock: Clock;
  recordEvents?: boolean;
}

export interface Scheduler {
  stop(): void;
}

function fits(pod: KubeObject, node: KubeObject): boolean {
  const spec = pod.spec ?? {};
  if (!podFitsNodeAffinity(spec, node)) return false;
  const tolerations = (Array.isArray(spec.tolerations) ? spec.tolerations : []) as Toleration[];
  return (
    findUntoleratedTaint(
      nodeTaints(node),
      tolerations,
      (t) => t.effect === "NoSchedule" || t.effect === "NoExecute",
    ) === undefined
  );
}

export function startScheduler(options: SchedulerOptions): Scheduler {
  const { store, clock } = options;
  const recordEvents = options.recordEvents ?? true;
  const queue = createWorkQueue({ clock, process: schedule, batchSize: 500 });

  function isPending(pod: KubeObject): boolean {
    const nodeName = pod.spec?.nodeName;
    const schedulerName = pod.spec?.schedulerName;
    return (
      (nodeName === undefined || nodeName === "") &&
      (schedulerName === undefined || schedulerName === "default-scheduler") &&
      pod.metadata.deletionTimestamp === undefined
    );
  }

  const RESCAN = "*rescan";

  function schedule(key: string): void {
    if (key === RESCAN) {
      for (const pod of store.list("pods", { fieldSelector: "spec.nodeName=" }).items) {
        if (isPending(pod)) queue.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
      }
      return;
    }
    const [namespace, name] = key.split("/") as [string, string];
    const pod = store.get("pods", namespace, name);
    if (!pod || !isPending(pod)) return;
    let chosen: KubeObject | undefined;
    const pinned = targetNodeName(pod);
    if (pinned !== undefined) {
      const node = store.get("nodes", undefined, pinned);
      if (node && fits(pod, node)) chosen = node;
    } else {
      // Least-loaded fitting node, name as tie-breaker, for stable tests.
      let best = Infinity;
      for (const node of store.list("nodes").items) {
        if (!fits(pod, node)) continue;
        const load = store.podsOnNode(node.metadata.name!).length;
        if (load < best) {
          best = load;
          chosen = node;
        }
      }
    }
    if (!chosen) {
      markUnschedulable(pod);
      return;
    }
    try {
      const bound = store.bind(namespace, name, chosen.metadata.name!);
      if (recordEvents) {
        recordEvent(store, clock, {
          involved: bound,
          type: "Normal",
          reason: "Scheduled",
          message: `Successfully assigned ${namespace}/${name} to ${chosen.metadata.name}`,
          component: "default-scheduler",
        });
      }
    } catch (err) {
      if (!isApiError(err, "Conflict") && !isApiError(err, "NotFound")) throw err;
    }
  }

  function markUnschedulable(pod: KubeObject): void {
    const conditions = (Array.isArray(pod.status?.conditions) ? pod.status.conditions : []) as Record<
      string,
      unknown
    >[];
    if (conditions.some((c) => c.type === "PodScheduled" && c.status === "False")) return;
    const nodeCount = store.list("nodes").items.length;
    const message = `0/${nodeCount} nodes are available: ${nodeCount} node(s) didn't match Pod's node affinity/selector.`;
    const status = {
      ...pod.status,
      conditions: [
        ...conditions.filter((c) => c.type !== "PodScheduled"),
        {
          type: "PodScheduled",
          status: "False",
          lastProbeTime: null,
          lastTransitionTime: formatTimestamp(clock.now()),
          reason: "Unschedulable",
          message,
        },
      ],
    };
    store.update("pods", { ...pod, status }, { subresource: "status" });
    if (recordEvents)
      recordEvent(store, clock, {
        involved: pod,
        type: "Warning",
        reason: "FailedScheduling",
        message,
        component: "default-scheduler",
      });
  }

  const unsubscribe = store.subscribe((event: StoreEvent) => {
    if (event.resource === "pods" && event.type !== "DELETED" && isPending(event.object)) {
      queue.add(`${event.object.metadata.namespace}/${event.object.metadata.name}`);
    } else if (event.resource === "nodes" && event.type !== "DELETED") {
      // A new or changed node may fit pods that did not fit before; one coalesced rescan per turn.
      queue.add(RESCAN);
    }
  });
  queue.add(RESCAN);

  return {
    stop() {
      unsubscribe();
      queue.stop();
    },
  };
}
