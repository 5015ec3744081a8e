// The pod status a kubelet reports: phase, conditions (keeping each condition's
// lastTransitionTime while its status holds) and one containerStatus per
// container. Pure: the kubelet's view of the containers and the time in, the
// status object out.

import type { KubeObject } from "../../types.ts";
import { imageId } from "./images.ts";

type Json = Record<string, unknown>;

export type ContainerPhase =
  | "creating"
  | "running"
  | "backoff"
  | "config-error"
  | "image-error"
  /** Stopped for good: the pod is being deleted. */
  | "terminated";

export interface TerminatedState {
  exitCode: number;
  reason: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
  message?: string;
}

/** What the kubelet knows of one container, which is all its status shows. */
export interface ContainerState {
  name: string;
  image: string;
  phase: ContainerPhase;
  ready: boolean;
  restartCount: number;
  startedAt?: string | undefined;
  containerId?: string | undefined;
  waitingMessage?: string | undefined;
  lastTerminated?: TerminatedState | undefined;
  /** Phase `terminated`: how the container ended. */
  terminated?: TerminatedState | undefined;
}

export interface BuildPodStatusOptions {
  /** The pod as stored (its conditions keep their transition times). */
  pod: KubeObject;
  containers: readonly ContainerState[];
  /** The pod sandbox is up (containers were started at least once). */
  sandboxReady: boolean;
  startTime: string;
  podIP: string;
  hostIP: string;
  nodeReady: boolean;
  /** The current time, formatted. */
  now: string;
}

type WaitingPhase = Exclude<ContainerPhase, "running" | "terminated">;

const WAITING_REASON: Record<WaitingPhase, string> = {
  creating: "ContainerCreating",
  backoff: "CrashLoopBackOff",
  "config-error": "CreateContainerConfigError",
  "image-error": "ImagePullBackOff",
};

/** The waiting reason of a container that is not running. */
export function waitingReason(phase: WaitingPhase): string {
  return WAITING_REASON[phase];
}

/** One entry of status.containerStatuses. */
export function buildContainerStatus(c: ContainerState): Json {
  const state: Json =
    c.phase === "running"
      ? { running: { startedAt: c.startedAt } }
      : c.phase === "terminated"
        ? { terminated: c.terminated }
        : c.phase === "creating"
          ? { waiting: { reason: WAITING_REASON.creating } }
          : { waiting: { reason: WAITING_REASON[c.phase], message: c.waitingMessage } };
  const status: Json = {
    name: c.name,
    state,
    lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
    ready: c.ready,
    restartCount: c.restartCount,
    image: c.image,
    imageID: c.phase === "running" || c.lastTerminated ? imageId(c.image) : "",
    started: c.phase === "running",
  };
  if (c.phase === "running" && c.containerId) status.containerID = c.containerId;
  else if (c.phase === "terminated" && c.terminated) status.containerID = c.terminated.containerID;
  else if (c.lastTerminated) status.containerID = c.lastTerminated.containerID;
  return status;
}

function existingConditions(pod: KubeObject): Json[] {
  return (Array.isArray(pod.status?.conditions) ? pod.status.conditions : []) as Json[];
}

function condition(
  existing: Json[],
  now: string,
  type: string,
  statusValue: boolean,
  extra: Json = {},
): Json {
  const value = statusValue ? "True" : "False";
  const old = existing.find((c) => c.type === type);
  const lastTransitionTime = old && old.status === value ? old.lastTransitionTime : now;
  return { type, status: value, lastProbeTime: null, lastTransitionTime, ...extra };
}

/** The status a running kubelet writes for a pod on its node. */
export function buildPodStatus(options: BuildPodStatusOptions): Json {
  const { pod, containers, sandboxReady, now } = options;
  const existing = existingConditions(pod);
  const allReady = containers.every((c) => c.ready);
  const unready = containers.filter((c) => !c.ready).map((c) => c.name);
  const notReadyExtra: Json = allReady
    ? {}
    : { reason: "ContainersNotReady", message: `containers with unready status: [${unready.join(" ")}]` };
  const everStarted = containers.every(
    (c) => c.phase === "running" || c.restartCount > 0 || c.lastTerminated !== undefined,
  );
  const ready = allReady && options.nodeReady;
  const conditions = [
    condition(existing, now, "PodReadyToStartContainers", sandboxReady),
    condition(existing, now, "Initialized", true),
    condition(existing, now, "Ready", ready, allReady ? {} : notReadyExtra),
    condition(existing, now, "ContainersReady", allReady, notReadyExtra),
    condition(existing, now, "PodScheduled", true),
  ];
  const status: Json = {
    phase: everStarted ? "Running" : "Pending",
    conditions,
    hostIP: options.hostIP,
    hostIPs: [{ ip: options.hostIP }],
    startTime: options.startTime,
    containerStatuses: containers.map(buildContainerStatus),
    qosClass: pod.status?.qosClass ?? "BestEffort",
  };
  if (sandboxReady) {
    status.podIP = options.podIP;
    status.podIPs = [{ ip: options.podIP }];
  }
  return status;
}

/**
 * The status the node lifecycle controller leaves on a pod of a NotReady node:
 * Ready turns False, nothing else changes. Undefined when it is not Ready already.
 */
export function notReadyNodePodStatus(pod: KubeObject, now: string): Json | undefined {
  const conditions = existingConditions(pod);
  if (conditions.find((c) => c.type === "Ready")?.status !== "True") return undefined;
  const next = conditions.map((c) =>
    c.type === "Ready" ? { ...c, status: "False", lastTransitionTime: now } : c,
  );
  return { ...pod.status, conditions: next };
}
