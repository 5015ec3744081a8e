// The simulated kubelets of all nodes: they run the pods bound to their node and
// report pod status the way a real kubelet does (phase, conditions, container
// states, restart counts, CrashLoopBackOff), write the kubelet's Events and keep
// container logs.
//
// This file is the runner: it watches pods, drives each container's lifecycle
// (config errors, image pulls, restarts with back-off, graceful termination) and
// writes the status. The parts it runs live in ./kubelet/: the environment
// (environment.ts) and the pod status (pod-status.ts) are pure; the runtime is
// one interface (container-runtime.ts) with two implementations. Mode `fake`
// pretends: containers start after `readyDelayMs` and crash only when told to
// (setCrashLoop or the `crashWhen` rule). Mode `process` runs each container as
// a local child process chosen by image name; its exit is the container's crash,
// its stdout/stderr the container log. In both, a container with an exec
// readinessProbe is ready only as its probe says (kubelet/probes.ts): the
// process runtime runs the command in the container's environment, the fake
// runtime asks the `execProbe` hook (success by default).

import { randomBytes } from "node:crypto";
import type { Clock, KubeObject, StoreEvent } from "../types.ts";
import { ApiError, badRequest, isApiError, notFound } from "../errors.ts";
import { formatTimestamp, type SimObjectStore } from "../store.ts";
import { recordEvent } from "./events.ts";
import { LogBuffer, tailText } from "./kubelet/container-logs.ts";
import type { ContainerRuntime, CrashSpec, RunningContainer } from "./kubelet/container-runtime.ts";
import { resolveContainerEnv } from "./kubelet/environment.ts";
import { createFakeRuntime, type ExecProbeHook } from "./kubelet/fake-runtime.ts";
import { imageRepository } from "./kubelet/images.ts";
import {
  buildPodStatus,
  notReadyNodePodStatus,
  waitingReason,
  type ContainerState,
} from "./kubelet/pod-status.ts";
import { createProcessRuntime, type ImageCommand, type SpawnFunction } from "./kubelet/process-runtime.ts";
import { readinessProbeSpec, startProbeWorker } from "./kubelet/probes.ts";
import { createWorkQueue } from "./work-queue.ts";

export type { CrashSpec } from "./kubelet/container-runtime.ts";
export type { ExecProbeHook } from "./kubelet/fake-runtime.ts";
export type { ProbeResult } from "./kubelet/probes.ts";
export type { ImageCommand, SpawnFunction } from "./kubelet/process-runtime.ts";
export { imageRepository } from "./kubelet/images.ts";

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------
// Options

export interface ContainerContext {
  pod: KubeObject;
  container: { name: string; image: string };
  /** The container's environment as the kubelet resolved it (downward API, secrets, config maps). */
  env: Record<string, string>;
}

/** A pod predicate, or an image (`tapfleet/agent` matches any tag; `tapfleet/agent:2` only that tag). */
export type PodMatcher = string | ((pod: KubeObject) => boolean);

export interface KubeletOptions {
  store: SimObjectStore;
  clock: Clock;
  mode: "fake" | "process";
  /** Time from binding to Running + Ready. Default 0. */
  readyDelayMs?: number;
  /** Record Pulled/Created/Started/BackOff Events. Default true. */
  recordEvents?: boolean;
  /** Crash containers for which this returns true or a CrashSpec (e.g. a required variable is missing). */
  crashWhen?: (ctx: ContainerContext) => boolean | CrashSpec;
  /** Fake mode: how long a crashing container runs before it exits. Default 1 s. */
  crashAfterMs?: number;
  /** CrashLoopBackOff: first back-off and cap, as the kubelet's (10 s, 5 min). */
  backOffBaseMs?: number;
  backOffMaxMs?: number;
  /** Process mode: image name (with or without tag) → command. */
  imageTable?: Record<string, ImageCommand>;
  /** Process mode: environment every container starts with (e.g. PATH). */
  baseEnv?: Record<string, string>;
  /** Process mode: injectable spawn for tests. */
  spawn?: SpawnFunction;
  /** Fake mode: how long a container takes to stop after SIGTERM (at most the grace period). Default 0. */
  stopAfterMs?: number;
  /** Fake mode: the verdict of an exec readiness probe (default success); process mode runs the command. */
  execProbe?: ExecProbeHook;
  /** Bytes of log kept per container (current and previous instance each). Default 256 KiB. */
  logLimitBytes?: number;
  /** Whether a node's kubelet runs; a stopped one does no pod work. Default: all run. */
  nodeKubeletRunning?: (nodeName: string) => boolean;
  onError?: (err: unknown) => void;
}

export interface LogOptions {
  container?: string | undefined;
  tailLines?: number | undefined;
  previous?: boolean | undefined;
}

export interface Kubelet {
  /** Makes matching pods' containers crash-loop (or stop doing so, with `false`). Applies to running pods at once. */
  setCrashLoop(matcher: PodMatcher, crash?: boolean | CrashSpec): void;
  /** Container log text; throws the ApiErrors the real `/log` endpoint returns. */
  getLogs(namespace: string, pod: string, options?: LogOptions): string;
  /** Re-evaluates every pod on the node (the node controller calls this on readiness changes). */
  resyncNode(nodeName: string): void;
  /** Kills every process and stops watching. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Runner state

interface ContainerRecord extends ContainerState {
  /** Crashes since the last successful long run; drives the back-off. */
  crashes: number;
  /** The kubelet's own wait: a restart back-off or a config-error retry. */
  timer?: { cancel(): void } | undefined;
  /** The runtime's handle while the container runs. */
  running?: RunningContainer | undefined;
  /** The readiness probe's worker while the container runs. */
  probe?: { cancel(): void } | undefined;
  logs: LogBuffer;
  previousLogs?: LogBuffer;
}

interface PodRecord {
  uid: string;
  key: string;
  nodeName: string;
  startTime: string;
  podIP: string;
  containers: Map<string, ContainerRecord>;
  startTimer?: { cancel(): void } | undefined;
  started: boolean;
  /** Graceful termination under way (deletionTimestamp seen). */
  terminating?: boolean;
}

function containerId(): string {
  return `containerd://${randomBytes(32).toString("hex")}`;
}

function matcherMatches(matcher: PodMatcher, pod: KubeObject): boolean {
  if (typeof matcher === "function") return matcher(pod);
  const containers = (Array.isArray(pod.spec?.containers) ? pod.spec.containers : []) as Json[];
  return containers.some((c) => {
    const image = typeof c.image === "string" ? c.image : "";
    return image === matcher || imageRepository(image) === matcher;
  });
}

/** The kubelet's termination message from logs: the last 80 lines, at most the last 2048 bytes. */
export function fallbackMessage(log: string): string {
  const tail = tailText(log, 80);
  const bytes = Buffer.from(tail);
  return bytes.length <= 2048 ? tail : bytes.subarray(bytes.length - 2048).toString("utf8");
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m0s` : `${m}m${s % 60}s`;
}

// ---------------------------------------------------------------------------

/** Starts the kubelets of all nodes. */
export function startKubelet(options: KubeletOptions): Kubelet {
  const { store, clock, mode } = options;
  const readyDelayMs = options.readyDelayMs ?? 0;
  const recordEvents = options.recordEvents ?? true;
  const backOffBaseMs = options.backOffBaseMs ?? 10_000;
  const backOffMaxMs = options.backOffMaxMs ?? 300_000;
  const logLimit = options.logLimitBytes ?? 256 * 1024;
  const runtime: ContainerRuntime =
    mode === "process"
      ? createProcessRuntime({
          clock,
          imageTable: options.imageTable,
          baseEnv: options.baseEnv,
          spawn: options.spawn,
        })
      : createFakeRuntime({
          clock,
          crashAfterMs: options.crashAfterMs ?? 1_000,
          stopAfterMs: options.stopAfterMs ?? 0,
          execProbe: options.execProbe,
        });
  const crashRules: { matcher: PodMatcher; crash: boolean | CrashSpec }[] = [];

  const pods = new Map<string, PodRecord>(); // by "ns/name"
  let ipCounter = 0;
  let stopped = false;

  const queue = createWorkQueue({
    clock,
    process: sync,
    batchSize: 500,
    onError: (key, err) => options.onError?.(new Error(`kubelet syncing pod ${key}`, { cause: err })),
  });

  function now(): string {
    return formatTimestamp(clock.now());
  }

  function event(
    pod: KubeObject,
    record: PodRecord,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    container?: string,
  ): void {
    if (!recordEvents) return;
    recordEvent(store, clock, {
      involved: pod,
      ...(container ? { fieldPath: `spec.containers{${container}}` } : {}),
      type,
      reason,
      message,
      component: "kubelet",
      host: record.nodeName,
    });
  }

  function nodeReady(nodeName: string): boolean {
    const node = store.get("nodes", undefined, nodeName);
    const conditions = (Array.isArray(node?.status?.conditions) ? node.status.conditions : []) as Json[];
    return node !== undefined && conditions.some((c) => c.type === "Ready" && c.status === "True");
  }

  function hostIP(nodeName: string): string {
    const node = store.get("nodes", undefined, nodeName);
    const addresses = (Array.isArray(node?.status?.addresses) ? node.status.addresses : []) as Json[];
    const internal = addresses.find((a) => a.type === "InternalIP");
    return typeof internal?.address === "string" ? internal.address : "10.0.0.1";
  }

  function crashFor(pod: KubeObject, ctx: ContainerContext): CrashSpec | undefined {
    for (let i = crashRules.length - 1; i >= 0; i--) {
      const rule = crashRules[i]!;
      if (matcherMatches(rule.matcher, pod)) {
        if (rule.crash === false) return undefined;
        return rule.crash === true ? {} : rule.crash;
      }
    }
    const verdict = options.crashWhen?.(ctx);
    if (verdict === undefined || verdict === false) return undefined;
    return verdict === true ? {} : verdict;
  }

  // --- container lifecycle -----------------------------------------------------------

  function startContainer(key: string, name: string): void {
    const record = pods.get(key);
    const c = record?.containers.get(name);
    const pod = store.get("pods", ...(key.split("/") as [string, string]));
    if (!record || !c || !pod || pod.metadata.uid !== record.uid || stopped) return;
    c.timer = undefined;
    const container = ((pod.spec?.containers ?? []) as Json[]).find((x) => x.name === name) ?? {};
    const namespace = pod.metadata.namespace!;
    const resolved = resolveContainerEnv({
      pod,
      container,
      findSource: (kind, sourceName) => store.get(kind, namespace, sourceName),
      hostIP: hostIP(record.nodeName),
      podIP: record.podIP,
    });
    if ("error" in resolved) {
      c.phase = "config-error";
      c.waitingMessage = resolved.error;
      event(pod, record, "Warning", "Failed", `Error: ${c.waitingMessage}`, name);
      // The kubelet retries a config error on its sync period.
      c.timer = clock.setTimeout(() => startContainer(key, name), backOffBaseMs);
      queue.add(key);
      return;
    }
    const env = resolved.env;
    const pullError = runtime.pull(c.image);
    if (pullError !== undefined) {
      c.phase = "image-error";
      c.waitingMessage = `Back-off pulling image "${c.image}"`;
      event(pod, record, "Warning", "Failed", pullError, name);
      queue.add(key);
      return;
    }
    event(pod, record, "Normal", "Pulled", `Container image "${c.image}" already present on machine`, name);
    event(pod, record, "Normal", "Created", `Created container: ${name}`, name);
    // A new instance: the one before becomes `previous`; until now it was the current log.
    if (c.containerId !== undefined) {
      c.previousLogs = c.logs;
      c.logs = new LogBuffer(logLimit);
    }
    c.phase = "running";
    c.startedAt = now();
    c.containerId = containerId();
    c.waitingMessage = undefined;
    event(pod, record, "Normal", "Started", `Started container ${name}`, name);

    const handle = runtime.start({
      pod,
      name,
      image: c.image,
      env,
      logs: c.logs,
      crash: () => crashFor(pod, { pod, container: { name, image: c.image }, env }),
      exited: (exitCode) => {
        if (c.running !== handle) return;
        c.running = undefined;
        containerExited(key, name, exitCode);
      },
    });
    c.running = handle;
    const probe = readinessProbeSpec(container);
    if (probe === undefined) {
      // No probe the simulator runs: a running container is ready at once (after the pod's initial delay).
      c.ready = c.phase === "running";
    } else {
      c.ready = false;
      c.probe = startProbeWorker({
        clock,
        spec: probe,
        run: () => handle.exec(probe.command, probe.timeoutMs),
        onReadyChange: (ready) => {
          if (c.running !== handle) return;
          c.ready = ready;
          queue.add(key);
        },
        onFailure: (output) => {
          if (c.running !== handle) return;
          event(pod, record, "Warning", "Unhealthy", `Readiness probe failed: ${output}`, name);
        },
        onError: (err) =>
          options.onError?.(new Error(`kubelet probing ${key} container ${name}`, { cause: err })),
      });
    }
    queue.add(key);
  }

  function containerExited(key: string, name: string, exitCode: number): void {
    const record = pods.get(key);
    const c = record?.containers.get(name);
    if (!record || !c || stopped) return;
    const pod = store.get("pods", ...(key.split("/") as [string, string]));
    if (!pod || pod.metadata.uid !== record.uid) return;
    const spec = ((pod.spec?.containers ?? []) as Json[]).find((x) => x.name === name);
    // No container here writes a termination message file, so FallbackToLogsOnError takes the log's tail.
    const message =
      exitCode !== 0 && spec?.terminationMessagePolicy === "FallbackToLogsOnError"
        ? fallbackMessage(c.logs.text())
        : "";
    c.lastTerminated = {
      exitCode,
      reason: exitCode === 0 ? "Completed" : "Error",
      ...(message ? { message } : {}),
      startedAt: c.startedAt ?? now(),
      finishedAt: now(),
      containerID: c.containerId ?? containerId(),
    };
    // The exited instance's log stays the current one until the next instance starts.
    c.probe?.cancel();
    c.probe = undefined;
    c.ready = false;
    c.crashes++;
    // The first restart is immediate; later ones back off 10 s, 20 s, … up to 5 min.
    const delay = c.crashes <= 1 ? 0 : Math.min(backOffBaseMs * 2 ** (c.crashes - 2), backOffMaxMs);
    c.phase = "backoff";
    c.waitingMessage = `back-off ${formatDuration(delay || backOffBaseMs)} restarting failed container=${name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
    if (delay > 0)
      event(
        pod,
        record,
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
        name,
      );
    c.timer = clock.setTimeout(() => {
      c.restartCount++;
      startContainer(key, name);
    }, delay);
    queue.add(key);
  }

  /** Cancels the kubelet's waits for a container and takes its runtime handle. */
  function release(c: ContainerRecord): RunningContainer | undefined {
    c.timer?.cancel();
    c.timer = undefined;
    c.probe?.cancel();
    c.probe = undefined;
    const handle = c.running;
    c.running = undefined;
    return handle;
  }

  function killContainer(c: ContainerRecord): Promise<void> {
    return release(c)?.kill() ?? Promise.resolve();
  }

  function killPod(key: string): void {
    const record = pods.get(key);
    if (!record) return;
    record.startTimer?.cancel();
    for (const c of record.containers.values()) void killContainer(c);
    pods.delete(key);
  }

  // --- sync --------------------------------------------------------------------------------

  function sync(key: string): void {
    if (stopped) return;
    const [namespace, name] = key.split("/") as [string, string];
    const pod = store.get("pods", namespace, name);
    const existing = pods.get(key);
    if (!pod || (existing && existing.uid !== pod.metadata.uid)) killPod(key);
    if (!pod) return;
    const nodeName = pod.spec?.nodeName;
    if (typeof nodeName !== "string" || nodeName === "") return;
    if (!store.get("nodes", undefined, nodeName)) return;
    // A stopped kubelet neither starts, stops nor reports anything until it runs again.
    if (options.nodeKubeletRunning?.(nodeName) === false) return;
    const ready = nodeReady(nodeName);
    let record = pods.get(key);
    if (pod.metadata.deletionTimestamp !== undefined) {
      // A NotReady node's kubelet is down: its pods stay Terminating, as in a real cluster.
      if (ready) terminate(key, pod, record);
      return;
    }
    if (!record) {
      // A NotReady node's kubelet is down: it starts nothing.
      if (!ready) return;
      record = admit(key, pod, nodeName);
    }
    if (!ready) {
      // The node lifecycle controller marks pods of a NotReady node not ready; the kubelet itself is silent.
      const status = notReadyNodePodStatus(pod, now());
      if (status) writeStatus(pod, status);
      return;
    }
    const ip = hostIP(record.nodeName);
    writeStatus(
      pod,
      buildPodStatus({
        pod,
        containers: [...record.containers.values()],
        sandboxReady: record.started,
        startTime: record.startTime,
        podIP: record.podIP,
        hostIP: ip,
        nodeReady: ready,
        now: now(),
      }),
    );
  }

  /**
   * Graceful termination: SIGTERM, SIGKILL after the grace period; the kubelet
   * reports the stopped containers (the pod stays visible, Terminating, until
   * then), and its final delete with grace 0 removes the pod from the API.
   */
  function terminate(key: string, pod: KubeObject, record: PodRecord | undefined): void {
    const finish = (): void => {
      if (stopped) return;
      if (record && pods.get(key) === record) pods.delete(key);
      try {
        store.delete("pods", pod.metadata.namespace, pod.metadata.name!, {
          gracePeriodSeconds: 0,
          preconditions: { uid: pod.metadata.uid },
        });
      } catch (err) {
        if (!isApiError(err, "NotFound") && !isApiError(err, "Conflict")) options.onError?.(err);
      }
    };
    if (!record) return finish();
    if (record.terminating) return;
    record.terminating = true;
    record.startTimer?.cancel();
    const wasRunning = [...record.containers.values()].filter((c) => c.phase === "running");
    for (const c of wasRunning)
      event(pod, record, "Normal", "Killing", `Stopping container ${c.name}`, c.name);
    const graceMs =
      (typeof pod.metadata.deletionGracePeriodSeconds === "number"
        ? pod.metadata.deletionGracePeriodSeconds
        : 30) * 1000;
    const began = clock.now();
    const exits: Promise<void>[] = [];
    for (const c of record.containers.values()) {
      const gone = release(c)?.terminate(graceMs);
      if (gone) exits.push(gone);
    }
    /** The status of the stopped containers: exit 0 on SIGTERM (fake), 143 (process), 137 after SIGKILL. */
    const stoppedStatus = (): void => {
      if (stopped || pods.get(key) !== record) return;
      const killed = clock.now() - began >= graceMs;
      const exitCode = killed ? 137 : mode === "fake" ? 0 : 143;
      for (const c of wasRunning) {
        c.phase = "terminated";
        c.ready = false;
        c.terminated = {
          exitCode,
          reason: exitCode === 0 ? "Completed" : "Error",
          startedAt: c.startedAt ?? now(),
          finishedAt: now(),
          containerID: c.containerId ?? containerId(),
        };
      }
      for (const c of record.containers.values()) c.ready = false;
      const current = store.get("pods", pod.metadata.namespace, pod.metadata.name!);
      if (!current || current.metadata.uid !== record.uid) return;
      writeStatus(
        current,
        buildPodStatus({
          pod: current,
          containers: [...record.containers.values()],
          sandboxReady: record.started,
          startTime: record.startTime,
          podIP: record.podIP,
          hostIP: hostIP(record.nodeName),
          nodeReady: nodeReady(record.nodeName),
          now: now(),
        }),
      );
    };
    const done = (): void => {
      try {
        stoppedStatus();
      } catch (err) {
        options.onError?.(err);
      }
      finish();
    };
    if (exits.length === 0) done();
    else void Promise.all(exits).then(done);
  }

  function writeStatus(pod: KubeObject, status: Json): void {
    try {
      store.update("pods", { ...pod, status }, { subresource: "status" });
    } catch (err) {
      if (!isApiError(err, "NotFound")) throw err;
    }
  }

  function admit(key: string, pod: KubeObject, nodeName: string): PodRecord {
    ipCounter++;
    const record: PodRecord = {
      uid: pod.metadata.uid!,
      key,
      nodeName,
      startTime: now(),
      podIP: `10.244.${Math.floor(ipCounter / 250) % 256}.${(ipCounter % 250) + 2}`,
      containers: new Map(),
      started: false,
    };
    for (const c of (Array.isArray(pod.spec?.containers) ? pod.spec.containers : []) as Json[]) {
      const name = String(c.name);
      record.containers.set(name, {
        name,
        image: String(c.image),
        phase: "creating",
        ready: false,
        restartCount: 0,
        crashes: 0,
        logs: new LogBuffer(logLimit),
      });
    }
    pods.set(key, record);
    const start = (): void => {
      record.startTimer = undefined;
      record.started = true;
      for (const name of record.containers.keys()) startContainer(key, name);
      queue.add(key);
    };
    // With a delay the kubelet first reports Pending/ContainerCreating, like a real image pull.
    if (readyDelayMs > 0) record.startTimer = clock.setTimeout(start, readyDelayMs);
    else start();
    return record;
  }

  const unsubscribe = store.subscribe((e: StoreEvent) => {
    if (e.resource !== "pods") return;
    const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
    if (e.type === "DELETED") {
      // Deletion kills the containers at once; nothing is left to report status for.
      if (pods.get(key)?.uid === e.object.metadata.uid) killPod(key);
      return;
    }
    const nodeName = e.object.spec?.nodeName;
    if (e.object.metadata.deletionTimestamp !== undefined && typeof nodeName === "string" && nodeName !== "")
      queue.add(key);
    else if (typeof nodeName === "string" && nodeName !== "" && !pods.has(key)) queue.add(key);
    else if (pods.has(key) && e.type === "MODIFIED" && pods.get(key)!.uid !== e.object.metadata.uid)
      queue.add(key);
  });
  for (const pod of store.list("pods").items) {
    if (typeof pod.spec?.nodeName === "string" && pod.spec.nodeName !== "")
      queue.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
  }

  return {
    setCrashLoop(matcher, crash = true) {
      crashRules.push({ matcher, crash });
      // Running containers of matching pods crash now (fake) / are left to their process (process mode).
      for (const [key, record] of pods) {
        const pod = store.get("pods", ...(key.split("/") as [string, string]));
        if (!pod || !matcherMatches(matcher, pod)) continue;
        for (const c of record.containers.values()) {
          if (c.phase !== "running" || !c.running) continue;
          if (crash === false) {
            if (c.running.setCrash(false)) c.crashes = 0;
          } else c.running.setCrash(crash === true ? {} : crash);
        }
      }
    },

    getLogs(namespace, podName, logOptions = {}) {
      const pod = store.get("pods", namespace, podName);
      if (!pod) throw notFound({ group: "", resource: "pods" }, podName);
      const names = ((pod.spec?.containers ?? []) as Json[]).map((c) => String(c.name));
      let container = logOptions.container;
      if (container === undefined || container === "") {
        if (names.length !== 1)
          throw badRequest(
            `a container name must be specified for pod ${podName}, choose one of: [${names.join(" ")}]`,
          );
        container = names[0]!;
      }
      if (!names.includes(container))
        throw badRequest(`container ${container} is not valid for pod ${podName}`);
      const c = pods.get(`${namespace}/${podName}`)?.containers.get(container);
      if (logOptions.previous) {
        if (!c?.previousLogs)
          throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
        return tailText(c.previousLogs.text(), logOptions.tailLines);
      }
      const waiting = (phase: Parameters<typeof waitingReason>[0]): ApiError =>
        badRequest(
          `container "${container}" in pod "${podName}" is waiting to start: ${waitingReason(phase)}`,
        );
      if (!c) throw waiting("creating");
      if (c.phase === "creating" || c.phase === "config-error" || c.phase === "image-error")
        throw waiting(c.phase);
      return tailText(c.logs.text(), logOptions.tailLines);
    },

    resyncNode(nodeName) {
      for (const pod of store.podsOnNode(nodeName))
        queue.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
    },

    async stop() {
      stopped = true;
      unsubscribe();
      queue.stop();
      const exits: Promise<void>[] = [];
      for (const record of pods.values()) {
        record.startTimer?.cancel();
        for (const c of record.containers.values()) exits.push(killContainer(c));
      }
      pods.clear();
      await Promise.all(exits);
    },
  };
}

export { ApiError };
