import type { ChildProcess } from "node:child_process";
import { execFileSync, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../../scripts/test-wait-for.ts";
import { createSimCluster, type SimCluster, type SimClusterOptions } from "../cluster.ts";
import { ApiError } from "../errors.ts";
import { createManualClock } from "../manual-clock.ts";
import type { KubeObject } from "../types.ts";
import { fallbackMessage, imageRepository } from "./kubelet.ts";

type Json = Record<string, unknown>;

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function podObject(name: string, containers: Json[], nodeName = "node-1"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { nodeName, containers },
  };
}

/** Resolves with the pod once `predicate` holds, checking now and on every store event. */
function podWhen(c: SimCluster, name: string, predicate: (pod: KubeObject) => boolean): Promise<KubeObject> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const pod = c.store.get("pods", "default", name);
      if (pod && predicate(pod)) {
        resolve(pod);
        return true;
      }
      return false;
    };
    if (check()) return;
    const unsubscribe = c.store.subscribe((e) => {
      if (e.resource === "pods" && e.object.metadata.name === name && check()) unsubscribe();
    });
  });
}

function containerStatus(pod: KubeObject, index = 0): Json {
  return ((pod.status?.containerStatuses ?? []) as Json[])[index] ?? {};
}

function caught(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected an ApiError");
}

describe("kubelet: images", () => {
  it.each([
    ["tapfleet/agent:1.2.3", "tapfleet/agent"],
    ["registry.local:5000/tapfleet/agent:1", "registry.local:5000/tapfleet/agent"],
    ["busybox", "busybox"],
    ["tapfleet/agent@sha256:abc", "tapfleet/agent"],
  ])("%s → %s", (image, repo) => {
    expect(imageRepository(image)).toBe(repo);
  });
});

describe("kubelet: fake mode", () => {
  function fake(options: SimClusterOptions = {}) {
    const clock = createManualClock();
    cluster = createSimCluster({ nodes: 1, clock, ...options });
    return { c: cluster, clock };
  }

  it("serves logs with the real endpoint's errors", () => {
    const { c, clock } = fake({ readyDelayMs: 1_000 });
    c.store.create(
      "pods",
      podObject("two", [
        { name: "a", image: "x:1" },
        { name: "b", image: "y:1" },
      ]),
    );
    clock.flush();
    expect(caught(() => c.getLogs("default", "two")).status.message).toBe(
      "a container name must be specified for pod two, choose one of: [a b]",
    );
    expect(caught(() => c.getLogs("default", "two", { container: "a" })).status.message).toBe(
      'container "a" in pod "two" is waiting to start: ContainerCreating',
    );
    expect(caught(() => c.getLogs("default", "nope")).status.code).toBe(404);
    clock.advance(1_000);
    expect(c.getLogs("default", "two", { container: "b" })).toContain("container b started");
    expect(caught(() => c.getLogs("default", "two", { container: "b", previous: true })).status.message).toBe(
      'previous terminated container "b" in pod "two" not found',
    );
    expect(caught(() => c.getLogs("default", "two", { container: "c" })).status.code).toBe(400);
  });

  it("reports CreateContainerConfigError when a referenced secret is missing, and starts once it exists", () => {
    const { c, clock } = fake();
    c.store.create(
      "pods",
      podObject("needs-secret", [
        {
          name: "a",
          image: "x:1",
          env: [{ name: "T", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } }],
        },
      ]),
    );
    clock.flush();
    const waiting = c.store.get("pods", "default", "needs-secret")!;
    expect(containerStatus(waiting)).toMatchObject({
      state: { waiting: { reason: "CreateContainerConfigError", message: 'secret "creds" not found' } },
      ready: false,
    });
    c.store.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "creds", namespace: "default" },
      stringData: { token: "t" },
    });
    clock.advance(10_000);
    expect(containerStatus(c.store.get("pods", "default", "needs-secret")!)).toMatchObject({
      ready: true,
      state: { running: expect.any(Object) },
    });
  });

  it("setCrashLoop by predicate affects running pods, and `false` lifts it", () => {
    const { c, clock } = fake({ crashAfterMs: 100, backOffBaseMs: 1_000 });
    c.store.create("pods", podObject("victim", [{ name: "a", image: "x:1" }]));
    clock.flush();
    c.setCrashLoop((pod) => pod.metadata.name === "victim");
    clock.advance(100);
    clock.advance(100);
    expect(containerStatus(c.store.get("pods", "default", "victim")!)).toMatchObject({
      restartCount: 1,
      state: { waiting: { reason: "CrashLoopBackOff" } },
    });
    c.setCrashLoop((pod) => pod.metadata.name === "victim", false);
    clock.advance(1_000);
    clock.advance(5_000);
    expect(containerStatus(c.store.get("pods", "default", "victim")!)).toMatchObject({
      restartCount: 2,
      ready: true,
      state: { running: expect.any(Object) },
    });
  });
});

describe("kubelet: logs of a crash loop (fake mode)", () => {
  function fake(options: SimClusterOptions = {}) {
    const clock = createManualClock();
    cluster = createSimCluster({ nodes: 1, clock, heartbeats: false, crashAfterMs: 500, ...options });
    return { c: cluster, clock };
  }

  it("keeps the last attempt as the current log while backing off, and the one before as previous", () => {
    const { c, clock } = fake();
    c.setCrashLoop("x:1", { message: "boom" });
    c.store.create("pods", podObject("looper", [{ name: "a", image: "x:1" }]));
    clock.flush();
    clock.advance(500); // attempt 1 exits, attempt 2 starts at once
    clock.advance(500); // attempt 2 exits: CrashLoopBackOff
    const pod = c.store.get("pods", "default", "looper")!;
    expect((containerStatus(pod).state as Json).waiting).toMatchObject({ reason: "CrashLoopBackOff" });
    const current = c.getLogs("default", "looper");
    expect(current).toBe(
      "kube-sim: container a started (image x:1)\nboom\nkube-sim: container a exited with code 1\n",
    );
    expect(c.getLogs("default", "looper", { previous: true })).toBe(current);
    clock.advance(10_000); // attempt 3 starts after the back-off
    expect(c.getLogs("default", "looper")).toBe("kube-sim: container a started (image x:1)\n");
    expect(c.getLogs("default", "looper", { previous: true })).toContain("exited with code 1");
  });

  it("fills lastState.terminated.message from the log's tail with FallbackToLogsOnError", () => {
    const { c, clock } = fake();
    c.setCrashLoop("x:1", { message: "fatal: TAPFLEET_TOKEN is not set", exitCode: 2 });
    c.store.create(
      "pods",
      podObject("fallback", [{ name: "a", image: "x:1", terminationMessagePolicy: "FallbackToLogsOnError" }]),
    );
    c.store.create("pods", podObject("file", [{ name: "a", image: "x:1" }]));
    clock.flush();
    clock.advance(500);
    clock.flush();
    const terminated = (name: string) =>
      ((containerStatus(c.store.get("pods", "default", name)!).lastState as Json).terminated ?? {}) as Json;
    expect(terminated("fallback")).toMatchObject({
      exitCode: 2,
      message:
        "kube-sim: container a started (image x:1)\nfatal: TAPFLEET_TOKEN is not set\nkube-sim: container a exited with code 2\n",
    });
    expect(terminated("file").exitCode).toBe(2);
    expect(terminated("file")).not.toHaveProperty("message");
  });

  it("cuts the fallback message at 80 lines and 2048 bytes, as the kubelet does", () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n") + "\n";
    expect(fallbackMessage(lines).split("\n").filter(Boolean)).toHaveLength(80);
    expect(fallbackMessage(lines).startsWith("line 20\n")).toBe(true);
    const long = `${"x".repeat(3000)}\nlast\n`;
    expect(Buffer.byteLength(fallbackMessage(long))).toBe(2048);
    expect(fallbackMessage(long).endsWith("last\n")).toBe(true);
  });
});

describe("kubelet: graceful pod deletion (fake mode)", () => {
  function fake(options: SimClusterOptions = {}) {
    const clock = createManualClock();
    cluster = createSimCluster({ nodes: 1, clock, heartbeats: false, ...options });
    const events: { type: string; pod: KubeObject }[] = [];
    cluster.store.subscribe((e) => {
      if (e.resource === "pods") events.push({ type: e.type, pod: e.object });
    });
    return { c: cluster, clock, events };
  }
  /** Lets the kubelet's continuation after a container stopped (a promise) run. */
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

  it("keeps a deleted pod visible while its container stops, reports it terminated, then removes it", async () => {
    const { c, clock, events } = fake({ containerStopMs: 2_000 });
    c.store.create("pods", podObject("stopping", [{ name: "a", image: "x:1" }]));
    clock.flush();
    events.length = 0;
    const deleted = c.store.delete("pods", "default", "stopping");
    expect(deleted.metadata).toMatchObject({ deletionGracePeriodSeconds: 30 });
    expect(deleted.metadata.deletionTimestamp).toBe("2026-01-01T00:00:30Z");
    clock.advance(1_999);
    await settle();
    expect(c.store.get("pods", "default", "stopping")?.metadata.deletionTimestamp).toBeDefined();
    clock.advance(1);
    await settle();
    expect(c.store.get("pods", "default", "stopping")).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(["MODIFIED", "MODIFIED", "DELETED"]);
    expect(containerStatus(events[1]!.pod)).toMatchObject({
      ready: false,
      started: false,
      state: { terminated: { exitCode: 0, reason: "Completed" } },
    });
  });

  it("kills a container that outlives the grace period (exit 137) and removes the pod then", async () => {
    const { c, clock, events } = fake({ containerStopMs: 60_000 });
    c.store.create("pods", podObject("slow", [{ name: "a", image: "x:1" }]));
    clock.flush();
    events.length = 0;
    c.store.delete("pods", "default", "slow", { gracePeriodSeconds: 5 });
    clock.advance(5_000);
    await settle();
    expect(c.store.get("pods", "default", "slow")).toBeUndefined();
    expect(containerStatus(events[1]!.pod).state).toMatchObject({
      terminated: { exitCode: 137, reason: "Error" },
    });
  });

  it("reports the stopped container before the delete even when it stops at once", () => {
    const { c, clock, events } = fake();
    c.store.create("pods", podObject("quick", [{ name: "a", image: "x:1" }]));
    clock.flush();
    events.length = 0;
    c.store.delete("pods", "default", "quick");
    clock.flush();
    expect(events.map((e) => e.type)).toEqual(["MODIFIED", "MODIFIED", "DELETED"]);
    expect(events[0]!.pod.metadata.deletionTimestamp).toBeDefined();
    expect(containerStatus(events[1]!.pod).state).toHaveProperty("terminated");
  });
});

describe("kubelet: process mode", () => {
  const script = [
    "console.log('node=' + process.env.NODE_NAME + ' pod=' + process.env.POD_NAME + ' ns=' + process.env.POD_NAMESPACE);",
    "console.log('token=' + process.env.TOKEN + ' level=' + process.env.LEVEL + ' url=' + process.env.URL);",
    "console.error('stderr line');",
    "process.exit(3);",
  ].join("\n");

  function processCluster(spawned: ChildProcess[] = []) {
    cluster = createSimCluster({
      nodes: 1,
      kubelet: "process",
      backOffBaseMs: 50,
      recordEvents: true,
      imageTable: {
        "tapfleet/agent": { command: process.execPath, args: ["-e", script] },
        "tapfleet/sleeper": {
          command: process.execPath,
          args: ["-e", "setInterval(() => {}, 1000); console.log('up')"],
        },
        // A shell whose foreground child keeps the output pipes open.
        "tapfleet/shell": { command: "/bin/sh", args: ["-c", "echo up; exec 2>&1; sleep 612.5"] },
        "tapfleet/stubborn": {
          command: process.execPath,
          args: [
            "-e",
            "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); setInterval(() => {}, 1000); console.log('up')",
          ],
        },
      },
      baseEnv: { PATH: process.env.PATH ?? "" },
      spawn: (command, args, options) => {
        const child = spawn(command, args, options);
        spawned.push(child);
        return child;
      },
    });
    return cluster;
  }

  it("runs the container with its resolved env, captures output, and crash-loops on exit", async () => {
    const c = processCluster();
    c.store.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "creds", namespace: "default" },
      data: { token: Buffer.from("s3cret").toString("base64") },
    });
    c.store.create("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg", namespace: "default" },
      data: { level: "debug" },
    });
    c.store.create(
      "pods",
      podObject("agent-x", [
        {
          name: "agent",
          image: "tapfleet/agent:1.0",
          env: [
            { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
            { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } },
            { name: "LEVEL", valueFrom: { configMapKeyRef: { name: "cfg", key: "level" } } },
            { name: "URL", value: "http://$(POD_NAME):80" },
          ],
        },
      ]),
    );
    const crashed = await podWhen(c, "agent-x", (p) => (containerStatus(p).restartCount as number) >= 2);
    expect(((containerStatus(crashed).lastState as Json).terminated as Json).exitCode).toBe(3);
    const previous = c.getLogs("default", "agent-x", { previous: true });
    expect(previous).toContain("node=node-1 pod=agent-x ns=default");
    expect(previous).toContain("token=s3cret level=debug url=http://agent-x:80");
    expect(previous).toContain("stderr line");
    expect(c.getLogs("default", "agent-x", { previous: true, tailLines: 1 })).toMatch(/^[^\n]*\n?$/);
    const backingOff = await podWhen(
      c,
      "agent-x",
      (p) => (containerStatus(p).state as Json).waiting !== undefined,
    );
    expect(((containerStatus(backingOff).state as Json).waiting as Json).reason).toBe("CrashLoopBackOff");
    expect(backingOff.status?.phase).toBe("Running");
  });

  it("kills the process when the pod is deleted, and everything on stop()", async () => {
    const spawned: ChildProcess[] = [];
    const c = processCluster(spawned);
    c.store.create("pods", podObject("sleeper-1", [{ name: "s", image: "tapfleet/sleeper:1" }]));
    c.store.create("pods", podObject("sleeper-2", [{ name: "s", image: "tapfleet/sleeper:1" }]));
    await podWhen(c, "sleeper-1", (p) => containerStatus(p).ready === true);
    await podWhen(c, "sleeper-2", (p) => containerStatus(p).ready === true);
    expect(spawned).toHaveLength(2);
    const [first, second] = spawned as [ChildProcess, ChildProcess];
    const firstExit = new Promise<NodeJS.Signals | null>((resolve) =>
      first.once("exit", (_code, signal) => resolve(signal)),
    );
    const gone = new Promise<void>((resolve) =>
      c.store.subscribe((e) => e.type === "DELETED" && e.object.metadata.name === "sleeper-1" && resolve()),
    );
    const terminating = c.store.delete("pods", "default", "sleeper-1");
    expect(terminating.metadata.deletionTimestamp).toBeDefined();
    expect(await firstExit).toBe("SIGTERM");
    await gone;
    expect(second.exitCode).toBeNull();
    await c.stop();
    cluster = undefined;
    expect(second.signalCode).toBe("SIGTERM");
  });

  it("stops every process of a container, not only its first, and does not wait on pipes its children hold", async () => {
    const c = processCluster();
    c.store.create("pods", podObject("shell", [{ name: "s", image: "tapfleet/shell:1" }]));
    await podWhen(c, "shell", (p) => containerStatus(p).ready === true);
    const sleeping = () => execFileSync("pgrep", ["-f", "sleep 612.5"], { encoding: "utf8" }).trim();
    // The shell starts its child right after printing, and nothing announces it: poll.
    await waitFor(sleeping, {
      what: "the shell's child process (sleep 612.5)",
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(sleeping()).not.toBe("");
    await c.stop();
    cluster = undefined;
    expect(() => sleeping()).toThrow();
  });

  it("sends SIGKILL when a container outlives its termination grace period", async () => {
    const spawned: ChildProcess[] = [];
    const c = processCluster(spawned);
    c.store.create("pods", {
      ...podObject("stubborn", [{ name: "s", image: "tapfleet/stubborn:1" }]),
      spec: {
        nodeName: "node-1",
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "s", image: "tapfleet/stubborn:1" }],
      },
    });
    await podWhen(c, "stubborn", (p) => containerStatus(p).ready === true);
    const child = spawned[0]!;
    // Ready means started, not that the script has installed its SIGTERM handler: wait for its output.
    await new Promise((resolve) => child.stdout!.once("data", resolve));
    const exit = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_code, signal) => resolve(signal)),
    );
    const gone = new Promise<void>((resolve) =>
      c.store.subscribe((e) => e.type === "DELETED" && e.object.metadata.name === "stubborn" && resolve()),
    );
    c.store.delete("pods", "default", "stubborn");
    expect(await exit).toBe("SIGKILL");
    await gone;
    expect(c.store.get("pods", "default", "stubborn")).toBeUndefined();
    expect(
      c.store.list("events", { fieldSelector: "involvedObject.name=stubborn,reason=Killing" }).items[0]
        ?.message,
    ).toBe("Stopping container s");
  });

  it("reports ImagePullBackOff for an image missing from the table", async () => {
    const c = processCluster();
    c.store.create("pods", podObject("unknown", [{ name: "u", image: "nobody/knows:1" }]));
    const pod = await podWhen(
      c,
      "unknown",
      (p) =>
        (containerStatus(p).state as Json | undefined)?.waiting !== undefined &&
        ((containerStatus(p).state as Json).waiting as Json).reason !== "ContainerCreating",
    );
    expect(containerStatus(pod).state).toEqual({
      waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "nobody/knows:1"' },
    });
  });
});
