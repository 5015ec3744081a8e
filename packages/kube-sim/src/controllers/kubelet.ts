// The simulated kubelets of all nodes: they run the pods bound to their node and
// report pod status the way a real kubelet does (phase, conditions, container
// states, restart counts, CrashLoopBackOff), write the kubelet's Events and keep
// container logs.
//
// Mode `fake` pretends: containers start after `readyDelayMs` and crash only
// when told to (setCrashLoop or the `crashWhen` rule). Mode `process` runs each
// container as a local child process chosen by image name; its exit is the
// container's crash, its stdout/stderr the container log.

import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import type { Clock, KubeObject, StoreEvent } from "../types.ts";
import { ApiError, badRequest, isApiError, notFound } from "../errors.ts";
import { formatTimestamp, type SimObjectStore } from "../store.ts";
import { recordEvent } from "./events.ts";
import { createWorkQueue } from "./work-queue.ts";

type Json = Record<string, unknown>;

/** A JSON scalar as text; anything else is empty. */
function text(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : "";
}

function obj(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

// ---------------------------------------------------------------------------
// Options

/** How a crashing container ends. */
export interface CrashSpec {
  exitCode?: number;
  /** Written to the container log before it exits. */
  message?: string;
}

export interface ContainerContext {
  pod: KubeObject;
  container: { name: string; image: string };
  /** The container's environment as the kubelet resolved it (downward API, secrets, config maps). */
  env: Record<string, string>;
}

/** A pod predicate, or an image (`tapfleet/agent` matches any tag; `tapfleet/agent:2` only that tag). */
export type PodMatcher = string | ((pod: KubeObject) => boolean);

export interface ImageCommand {
  command: string;
  args?: string[];
  /** Extra environment for this image (the pod's env wins). */
  env?: Record<string, string>;
}

export type SpawnFunction = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

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
  /** Bytes of log kept per container (current and previous instance each). Default 256 KiB. */
  logLimitBytes?: number;
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
// Logs

class LogBuffer {
  private chunks: string[] = [];
  private bytes = 0;
  constructor(private readonly limit: number) {}

  append(text: string): void {
    this.chunks.push(text);
    this.bytes += Buffer.byteLength(text);
    while (this.bytes > this.limit && this.chunks.length > 1)
      this.bytes -= Buffer.byteLength(this.chunks.shift()!);
  }

  text(): string {
    return this.chunks.join("");
  }
}

function tailText(text: string, lines: number | undefined): string {
  if (lines === undefined) return text;
  if (lines <= 0) return "";
  const trailing = text.endsWith("\n");
  const all = (trailing ? text.slice(0, -1) : text).split("\n");
  const kept = all.slice(-lines).join("\n");
  return trailing ? `${kept}\n` : kept;
}

// ---------------------------------------------------------------------------
// Runtime state

type ContainerPhase = "creating" | "running" | "backoff" | "config-error" | "image-error";

interface ContainerRuntime {
  name: string;
  image: string;
  phase: ContainerPhase;
  ready: boolean;
  restartCount: number;
  /** Crashes since the last successful long run; drives the back-off. */
  crashes: number;
  startedAt?: string;
  containerId?: string;
  waitingMessage?: string;
  lastTerminated?: {
    exitCode: number;
    reason: string;
    startedAt: string;
    finishedAt: string;
    containerID: string;
    message?: string;
  };
  timer?: { cancel(): void };
  process?: ChildProcess;
  logs: LogBuffer;
  previousLogs?: LogBuffer;
}

interface PodRuntime {
  uid: string;
  key: string;
  nodeName: string;
  startTime: string;
  podIP: string;
  containers: Map<string, ContainerRuntime>;
  startTimer?: { cancel(): void };
  started: boolean;
  /** Graceful termination under way (deletionTimestamp seen). */
  terminating?: boolean;
}

function containerId(): string {
  return `containerd://${randomBytes(32).toString("hex")}`;
}

function imageId(image: string): string {
  const digest = createHash("sha256").update(image).digest("hex");
  const repo = image.replace(/[:@].*$/, "");
  const qualified = repo.includes("/") ? repo : `library/${repo}`;
  return `docker.io/${qualified}@sha256:${digest}`;
}

/** `tapfleet/agent:1.2` → `tapfleet/agent`. */
export function imageRepository(image: string): string {
  const at = image.indexOf("@");
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.indexOf(":", slash + 1);
  return colon >= 0 ? noDigest.slice(0, colon) : noDigest;
}

function matcherMatches(matcher: PodMatcher, pod: KubeObject): boolean {
  if (typeof matcher === "function") return matcher(pod);
  const containers = (Array.isArray(pod.spec?.containers) ? pod.spec.containers : []) as Json[];
  return containers.some((c) => {
    const image = typeof c.image === "string" ? c.image : "";
    return image === matcher || imageRepository(image) === matcher;
  });
}

// ---------------------------------------------------------------------------

/** Starts the kubelets of all nodes. */
export function startKubelet(options: KubeletOptions): Kubelet {
  const { store, clock, mode } = options;
  const readyDelayMs = options.readyDelayMs ?? 0;
  const recordEvents = options.recordEvents ?? true;
  const crashAfterMs = options.crashAfterMs ?? 1_000;
  const backOffBaseMs = options.backOffBaseMs ?? 10_000;
  const backOffMaxMs = options.backOffMaxMs ?? 300_000;
  const logLimit = options.logLimitBytes ?? 256 * 1024;
  const spawn: SpawnFunction =
    options.spawn ?? ((command, args, spawnOptions) => nodeSpawn(command, args, spawnOptions));
  const crashRules: { matcher: PodMatcher; crash: boolean | CrashSpec }[] = [];

  const pods = new Map<string, PodRuntime>(); // by "ns/name"
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
    runtime: PodRuntime,
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
      host: runtime.nodeName,
    });
  }

  function nodeReady(nodeName: string): boolean {
    const node = store.get("nodes", undefined, nodeName);
    const conditions = (Array.isArray(node?.status?.conditions) ? node.status.conditions : []) as Json[];
    return node !== undefined && conditions.some((c) => c.type === "Ready" && c.status === "True");
  }

  // --- environment -------------------------------------------------------------

  /** Resolves a container's env like the kubelet; throws a CreateContainerConfigError message. */
  function resolveEnv(pod: KubeObject, container: Json): Record<string, string> {
    const env: Record<string, string> = {};
    const namespace = pod.metadata.namespace!;
    const lookup = (
      kind: "secrets" | "configmaps",
      name: string,
      key: string,
      optional: boolean,
    ): string | undefined => {
      const source = store.get(kind, namespace, name);
      const label = kind === "secrets" ? "secret" : "configmap";
      if (!source) {
        if (optional) return undefined;
        throw new Error(`${label} "${name}" not found`);
      }
      const data = obj(source.data) ?? {};
      const raw = data[key];
      if (raw === undefined) {
        const binary = obj(source.binaryData)?.[key];
        if (typeof binary === "string") return Buffer.from(binary, "base64").toString();
        if (optional) return undefined;
        throw new Error(
          `couldn't find key ${key} in ${kind === "secrets" ? "Secret" : "ConfigMap"} ${namespace}/${name}`,
        );
      }
      return kind === "secrets" ? Buffer.from(text(raw), "base64").toString() : text(raw);
    };
    for (const from of (Array.isArray(container.envFrom) ? container.envFrom : []) as Json[]) {
      const prefix = typeof from.prefix === "string" ? from.prefix : "";
      for (const [kind, ref] of [
        ["configmaps", obj(from.configMapRef)],
        ["secrets", obj(from.secretRef)],
      ] as const) {
        if (!ref) continue;
        const source = store.get(kind, namespace, String(ref.name));
        if (!source) {
          if (ref.optional === true) continue;
          throw new Error(`${kind === "secrets" ? "secret" : "configmap"} "${String(ref.name)}" not found`);
        }
        for (const [k, v] of Object.entries(obj(source.data) ?? {})) {
          env[prefix + k] = kind === "secrets" ? Buffer.from(String(v), "base64").toString() : String(v);
        }
      }
    }
    const field = (path: string): string => {
      const labelMatch = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      if (labelMatch)
        return (
          (labelMatch[1] === "labels" ? pod.metadata.labels : pod.metadata.annotations)?.[labelMatch[2]!] ??
          ""
        );
      switch (path) {
        case "metadata.name":
          return pod.metadata.name ?? "";
        case "metadata.namespace":
          return namespace;
        case "metadata.uid":
          return pod.metadata.uid ?? "";
        case "spec.nodeName":
          return text(pod.spec?.nodeName);
        case "spec.serviceAccountName":
          return text(pod.spec?.serviceAccountName);
        case "status.hostIP":
          return hostIP(text(pod.spec?.nodeName));
        case "status.podIP":
          return pods.get(`${namespace}/${pod.metadata.name}`)?.podIP ?? "";
        default:
          return "";
      }
    };
    for (const e of (Array.isArray(container.env) ? container.env : []) as Json[]) {
      const name = String(e.name);
      const valueFrom = obj(e.valueFrom);
      if (!valueFrom) {
        // $(VAR) refers to earlier variables; $$ escapes.
        const value = typeof e.value === "string" ? e.value : "";
        env[name] = value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string | undefined) =>
          m === "$$" ? "$" : v !== undefined && v in env ? env[v]! : m,
        );
        continue;
      }
      const fieldRef = obj(valueFrom.fieldRef);
      const secretRef = obj(valueFrom.secretKeyRef);
      const configRef = obj(valueFrom.configMapKeyRef);
      let value: string | undefined;
      if (fieldRef) value = field(String(fieldRef.fieldPath));
      else if (secretRef)
        value = lookup("secrets", String(secretRef.name), String(secretRef.key), secretRef.optional === true);
      else if (configRef)
        value = lookup(
          "configmaps",
          String(configRef.name),
          String(configRef.key),
          configRef.optional === true,
        );
      if (value !== undefined) env[name] = value;
    }
    return env;
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
    const runtime = pods.get(key);
    const c = runtime?.containers.get(name);
    const pod = store.get("pods", ...(key.split("/") as [string, string]));
    if (!runtime || !c || !pod || pod.metadata.uid !== runtime.uid || stopped) return;
    c.timer = undefined;
    const container = ((pod.spec?.containers ?? []) as Json[]).find((x) => x.name === name) ?? {};
    let env: Record<string, string>;
    try {
      env = resolveEnv(pod, container);
    } catch (err) {
      c.phase = "config-error";
      c.waitingMessage = (err as Error).message;
      event(pod, runtime, "Warning", "Failed", `Error: ${c.waitingMessage}`, name);
      // The kubelet retries a config error on its sync period.
      c.timer = clock.setTimeout(() => startContainer(key, name), backOffBaseMs);
      queue.add(key);
      return;
    }
    const imageCommand =
      mode === "process"
        ? (options.imageTable?.[c.image] ?? options.imageTable?.[imageRepository(c.image)])
        : undefined;
    if (mode === "process" && !imageCommand) {
      c.phase = "image-error";
      c.waitingMessage = `Back-off pulling image "${c.image}"`;
      event(
        pod,
        runtime,
        "Warning",
        "Failed",
        `Failed to pull image "${c.image}": image not in the simulator's image table`,
        name,
      );
      queue.add(key);
      return;
    }
    event(pod, runtime, "Normal", "Pulled", `Container image "${c.image}" already present on machine`, name);
    event(pod, runtime, "Normal", "Created", `Created container: ${name}`, name);
    c.phase = "running";
    c.startedAt = now();
    c.containerId = containerId();
    c.waitingMessage = undefined;
    event(pod, runtime, "Normal", "Started", `Started container ${name}`, name);

    if (mode === "process") {
      runProcess(key, pod, c, imageCommand!, env);
    } else {
      c.logs.append(`kube-sim: container ${name} started (image ${c.image})\n`);
      const crash = crashFor(pod, { pod, container: { name, image: c.image }, env });
      if (crash) {
        c.timer = clock.setTimeout(
          () => containerExited(key, name, crash.exitCode ?? 1, crash.message),
          crashAfterMs,
        );
      }
    }
    setReadiness(key, name);
  }

  function setReadiness(key: string, name: string): void {
    const c = pods.get(key)?.containers.get(name);
    if (!c) return;
    // No probes: a running container is ready at once (after the pod's initial delay).
    c.ready = c.phase === "running";
    queue.add(key);
  }

  function runProcess(
    key: string,
    pod: KubeObject,
    c: ContainerRuntime,
    command: ImageCommand,
    env: Record<string, string>,
  ): void {
    // A container sees only its own environment, not the simulator's (ProcessEnv typing insists on more).
    const fullEnv = { ...options.baseEnv, HOSTNAME: pod.metadata.name ?? "", ...command.env, ...env };
    let child: ChildProcess;
    try {
      // Its own process group, like a container's PID namespace: signals reach
      // every process the container started, not only the first.
      child = spawn(command.command, command.args ?? [], {
        env: fullEnv as unknown as NodeJS.ProcessEnv,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
    } catch (err) {
      c.logs.append(`${(err as Error).message}\n`);
      c.timer = clock.setTimeout(() => containerExited(key, c.name, 128), 0);
      return;
    }
    c.process = child;
    const logs = c.logs;
    child.stdout?.on("data", (chunk: Buffer) => logs.append(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => logs.append(chunk.toString()));
    child.on("error", (err) => {
      logs.append(`${err.message}\n`);
    });
    // The container ends when its first process exits (as with PID 1 in a real
    // container), even if a process it started still holds the output pipes:
    // what is left of the group is killed, as a container runtime would.
    child.on("exit", (code, signal) => {
      signalContainer(child, "SIGKILL");
      if (c.process !== child) return;
      c.process = undefined;
      const exitCode = code ?? (signal ? 128 + (signal === "SIGKILL" ? 9 : 15) : 1);
      containerExited(key, c.name, exitCode);
    });
  }

  function containerExited(key: string, name: string, exitCode: number, message?: string): void {
    const runtime = pods.get(key);
    const c = runtime?.containers.get(name);
    if (!runtime || !c || stopped) return;
    c.timer = undefined;
    const pod = store.get("pods", ...(key.split("/") as [string, string]));
    if (!pod || pod.metadata.uid !== runtime.uid) return;
    if (message) c.logs.append(`${message}\n`);
    if (mode === "fake") c.logs.append(`kube-sim: container ${name} exited with code ${exitCode}\n`);
    c.lastTerminated = {
      exitCode,
      reason: exitCode === 0 ? "Completed" : "Error",
      startedAt: c.startedAt ?? now(),
      finishedAt: now(),
      containerID: c.containerId ?? containerId(),
    };
    c.previousLogs = c.logs;
    c.logs = new LogBuffer(logLimit);
    c.ready = false;
    c.crashes++;
    // The first restart is immediate; later ones back off 10 s, 20 s, … up to 5 min.
    const delay = c.crashes <= 1 ? 0 : Math.min(backOffBaseMs * 2 ** (c.crashes - 2), backOffMaxMs);
    c.phase = "backoff";
    c.waitingMessage = `back-off ${formatDuration(delay || backOffBaseMs)} restarting failed container=${name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
    if (delay > 0)
      event(
        pod,
        runtime,
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

  /** Signals the container's whole process group; a no-op once it is gone. */
  function signalContainer(child: ChildProcess, signal: NodeJS.Signals): void {
    try {
      if (child.pid) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // ESRCH: the group has no processes left.
    }
  }

  function killContainer(c: ContainerRuntime): void {
    c.timer?.cancel();
    c.timer = undefined;
    const child = c.process;
    c.process = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      signalContainer(child, "SIGTERM");
      // Give it the usual moment, then make sure.
      const t = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) signalContainer(child, "SIGKILL");
      }, 2_000);
      t.unref();
    }
  }

  function killPod(key: string): void {
    const runtime = pods.get(key);
    if (!runtime) return;
    runtime.startTimer?.cancel();
    for (const c of runtime.containers.values()) killContainer(c);
    pods.delete(key);
  }

  // --- status ---------------------------------------------------------------------------

  function containerStatus(c: ContainerRuntime): Json {
    let state: Json;
    switch (c.phase) {
      case "creating":
        state = { waiting: { reason: "ContainerCreating" } };
        break;
      case "running":
        state = { running: { startedAt: c.startedAt } };
        break;
      case "backoff":
        state = { waiting: { reason: "CrashLoopBackOff", message: c.waitingMessage } };
        break;
      case "config-error":
        state = { waiting: { reason: "CreateContainerConfigError", message: c.waitingMessage } };
        break;
      case "image-error":
        state = { waiting: { reason: "ImagePullBackOff", message: c.waitingMessage } };
        break;
    }
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
    else if (c.lastTerminated) status.containerID = c.lastTerminated.containerID;
    return status;
  }

  function condition(existing: Json[], type: string, statusValue: boolean, extra: Json = {}): Json {
    const value = statusValue ? "True" : "False";
    const old = existing.find((c) => c.type === type);
    const lastTransitionTime = old && old.status === value ? old.lastTransitionTime : now();
    return { type, status: value, lastProbeTime: null, lastTransitionTime, ...extra };
  }

  function buildStatus(pod: KubeObject, runtime: PodRuntime, nodeIsReady: boolean): Json {
    const existing = (Array.isArray(pod.status?.conditions) ? pod.status.conditions : []) as Json[];
    const containers = [...runtime.containers.values()];
    const allReady = containers.every((c) => c.ready);
    const unready = containers.filter((c) => !c.ready).map((c) => c.name);
    const notReadyExtra: Json = allReady
      ? {}
      : { reason: "ContainersNotReady", message: `containers with unready status: [${unready.join(" ")}]` };
    const everStarted = containers.every(
      (c) => c.phase === "running" || c.restartCount > 0 || c.lastTerminated !== undefined,
    );
    const ready = allReady && nodeIsReady;
    const conditions = [
      condition(existing, "PodReadyToStartContainers", runtime.started),
      condition(existing, "Initialized", true),
      condition(existing, "Ready", ready, allReady ? {} : notReadyExtra),
      condition(existing, "ContainersReady", allReady, notReadyExtra),
      condition(existing, "PodScheduled", true),
    ];
    const ip = hostIP(runtime.nodeName);
    const status: Json = {
      phase: everStarted ? "Running" : "Pending",
      conditions,
      hostIP: ip,
      hostIPs: [{ ip }],
      startTime: runtime.startTime,
      containerStatuses: containers.map(containerStatus),
      qosClass: pod.status?.qosClass ?? "BestEffort",
    };
    if (runtime.started) {
      status.podIP = runtime.podIP;
      status.podIPs = [{ ip: runtime.podIP }];
    }
    return status;
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
    const ready = nodeReady(nodeName);
    let runtime = pods.get(key);
    if (pod.metadata.deletionTimestamp !== undefined) {
      // A NotReady node's kubelet is down: its pods stay Terminating, as in a real cluster.
      if (ready) terminate(key, pod, runtime);
      return;
    }
    if (!runtime) {
      // A NotReady node's kubelet is down: it starts nothing.
      if (!ready) return;
      runtime = admit(key, pod, nodeName);
    }
    if (!ready) {
      // The node lifecycle controller marks pods of a NotReady node not ready; the kubelet itself is silent.
      const conditions = (Array.isArray(pod.status?.conditions) ? pod.status.conditions : []) as Json[];
      const readyCondition = conditions.find((c) => c.type === "Ready");
      if (readyCondition?.status === "True") {
        const next = conditions.map((c) =>
          c.type === "Ready" ? { ...c, status: "False", lastTransitionTime: now() } : c,
        );
        writeStatus(pod, { ...pod.status, conditions: next });
      }
      return;
    }
    writeStatus(pod, buildStatus(pod, runtime, ready));
  }

  /**
   * Graceful termination: SIGTERM, SIGKILL after the grace period, then the
   * kubelet's final delete with grace 0 removes the pod from the API.
   */
  function terminate(key: string, pod: KubeObject, runtime: PodRuntime | undefined): void {
    const finish = (): void => {
      if (stopped) return;
      if (runtime && pods.get(key) === runtime) pods.delete(key);
      try {
        store.delete("pods", pod.metadata.namespace, pod.metadata.name!, {
          gracePeriodSeconds: 0,
          preconditions: { uid: pod.metadata.uid },
        });
      } catch (err) {
        if (!isApiError(err, "NotFound") && !isApiError(err, "Conflict")) options.onError?.(err);
      }
    };
    if (!runtime) return finish();
    if (runtime.terminating) return;
    runtime.terminating = true;
    runtime.startTimer?.cancel();
    for (const c of runtime.containers.values()) {
      if (c.phase === "running")
        event(pod, runtime, "Normal", "Killing", `Stopping container ${c.name}`, c.name);
    }
    const graceMs =
      (typeof pod.metadata.deletionGracePeriodSeconds === "number"
        ? pod.metadata.deletionGracePeriodSeconds
        : 30) * 1000;
    const exits: Promise<void>[] = [];
    for (const c of runtime.containers.values()) {
      c.timer?.cancel();
      c.timer = undefined;
      const child = c.process;
      c.process = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      exits.push(new Promise((resolve) => child.once("exit", () => resolve())));
      const escalate = clock.setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) signalContainer(child, "SIGKILL");
      }, graceMs);
      child.once("exit", () => escalate.cancel());
      signalContainer(child, "SIGTERM");
    }
    if (exits.length === 0) finish();
    else void Promise.all(exits).then(finish);
  }

  function writeStatus(pod: KubeObject, status: Json): void {
    try {
      store.update("pods", { ...pod, status }, { subresource: "status" });
    } catch (err) {
      if (!isApiError(err, "NotFound")) throw err;
    }
  }

  function admit(key: string, pod: KubeObject, nodeName: string): PodRuntime {
    ipCounter++;
    const runtime: PodRuntime = {
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
      runtime.containers.set(name, {
        name,
        image: String(c.image),
        phase: "creating",
        ready: false,
        restartCount: 0,
        crashes: 0,
        logs: new LogBuffer(logLimit),
      });
    }
    pods.set(key, runtime);
    const start = (): void => {
      runtime.startTimer = undefined;
      runtime.started = true;
      for (const name of runtime.containers.keys()) startContainer(key, name);
      queue.add(key);
    };
    // With a delay the kubelet first reports Pending/ContainerCreating, like a real image pull.
    if (readyDelayMs > 0) runtime.startTimer = clock.setTimeout(start, readyDelayMs);
    else start();
    return runtime;
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
      for (const [key, runtime] of pods) {
        const pod = store.get("pods", ...(key.split("/") as [string, string]));
        if (!pod || !matcherMatches(matcher, pod)) continue;
        for (const c of runtime.containers.values()) {
          if (crash !== false && mode === "fake" && c.phase === "running" && !c.timer) {
            const spec = crash === true ? {} : crash;
            c.timer = clock.setTimeout(
              () => containerExited(key, c.name, spec.exitCode ?? 1, spec.message),
              crashAfterMs,
            );
          } else if (crash === false && c.phase === "running" && c.timer && mode === "fake") {
            c.timer.cancel();
            c.timer = undefined;
            c.crashes = 0;
          }
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
      if (!c || c.phase === "creating" || c.phase === "config-error" || c.phase === "image-error") {
        const reason =
          !c || c.phase === "creating"
            ? "ContainerCreating"
            : c.phase === "config-error"
              ? "CreateContainerConfigError"
              : "ImagePullBackOff";
        throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
      }
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
      for (const runtime of pods.values()) {
        runtime.startTimer?.cancel();
        for (const c of runtime.containers.values()) {
          const child = c.process;
          if (child && child.exitCode === null && child.signalCode === null) {
            exits.push(new Promise((resolve) => child.once("exit", () => resolve())));
          }
          killContainer(c);
        }
      }
      pods.clear();
      await Promise.all(exits);
    },
  };
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m0s` : `${m}m${s % 60}s`;
}

export { ApiError };
