import { afterEach, describe, expect, it } from "vitest";
import { createSimCluster, type SimCluster, type SimClusterOptions } from "./cluster.ts";
import { createManualClock, type ManualClock } from "./manual-clock.ts";
import { daemonSetFixture } from "./testing/fixtures.ts";
import type { KubeObject, StoreEvent } from "./types.ts";

type Json = Record<string, unknown>;

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function start(options: SimClusterOptions = {}): { c: SimCluster; clock: ManualClock } {
  const clock = createManualClock(Date.UTC(2026, 0, 1));
  cluster = createSimCluster({ nodes: 3, clock, ...options });
  return { c: cluster, clock };
}

function status(c: SimCluster): Json {
  return c.store.get("daemonsets.apps", "default", "agent")!.status ?? {};
}

function agentPods(c: SimCluster): KubeObject[] {
  return c.store.list("pods", { labelSelector: "app=agent" }).items;
}

function setImage(c: SimCluster, image: string): KubeObject {
  const ds = structuredClone(c.store.get("daemonsets.apps", "default", "agent")!);
  (ds.spec!.template as { spec: { containers: { image: string }[] } }).spec.containers[0]!.image = image;
  return c.store.update("daemonsets.apps", ds);
}

const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const summary = (s: Json) =>
  `gen/obs ${num(s.observedGeneration)} cur ${num(s.currentNumberScheduled)} upd ${num(s.updatedNumberScheduled)} avl ${num(s.numberAvailable)}`;

describe("simulated cluster", () => {
  it("starts nodes that look like real ones", () => {
    const { c } = start();
    const node = c.store.get("nodes", undefined, "node-1")!;
    expect(node.metadata.labels).toMatchObject({
      "kubernetes.io/hostname": "node-1",
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
    });
    expect((node.status?.nodeInfo as Json).kubeletVersion).toMatch(/^v1\.32\./);
    expect(node.status?.conditions).toContainEqual(
      expect.objectContaining({ type: "Ready", status: "True" }),
    );
    expect((node.status?.addresses as Json[])[0]).toMatchObject({
      type: "InternalIP",
      address: expect.stringMatching(/^10\./),
    });
  });

  it("runs a DaemonSet: one bound, Running, Ready pod per node, and a complete status", () => {
    const { c, clock } = start();
    c.store.create("daemonsets.apps", daemonSetFixture());
    clock.flush();
    const pods = agentPods(c);
    expect(pods.map((p) => p.spec?.nodeName).sort()).toEqual(["node-1", "node-2", "node-3"]);
    for (const pod of pods) {
      expect(pod.status?.phase).toBe("Running");
      expect(pod.status?.conditions).toContainEqual(
        expect.objectContaining({ type: "Ready", status: "True" }),
      );
      expect(pod.status?.podIP).toMatch(/^10\.244\./);
      expect((pod.status?.containerStatuses as Json[])[0]).toMatchObject({
        name: "agent",
        ready: true,
        restartCount: 0,
        started: true,
      });
    }
    expect(status(c)).toEqual({
      currentNumberScheduled: 3,
      numberMisscheduled: 0,
      desiredNumberScheduled: 3,
      numberReady: 3,
      observedGeneration: 1,
      updatedNumberScheduled: 3,
      numberAvailable: 3,
    });
    const reasons = c.store.list("events").items.map((e) => e.reason);
    for (const reason of ["SuccessfulCreate", "Scheduled", "Pulled", "Created", "Started"])
      expect(reasons).toContain(reason);
  });

  it("reports Pending/ContainerCreating until readyDelayMs has passed", () => {
    const { c, clock } = start({ readyDelayMs: 2_000 });
    c.store.create("daemonsets.apps", daemonSetFixture());
    clock.flush();
    const pending = agentPods(c)[0]!;
    expect(pending.status?.phase).toBe("Pending");
    expect((pending.status?.containerStatuses as Json[])[0]).toMatchObject({
      state: { waiting: { reason: "ContainerCreating" } },
      ready: false,
    });
    expect(status(c).numberReady).toBe(0);
    clock.advance(2_000);
    expect(agentPods(c).every((p) => p.status?.phase === "Running")).toBe(true);
    expect(status(c).numberAvailable).toBe(3);
  });

  it("rolls out a new template one node at a time with maxUnavailable 1 (the sequence kubectl rollout status sees)", () => {
    const { c, clock } = start({ readyDelayMs: 1_000 });
    c.store.create("daemonsets.apps", daemonSetFixture());
    clock.advance(1_000);
    expect(summary(status(c))).toBe("gen/obs 1 cur 3 upd 3 avl 3");

    const seen: string[] = [];
    c.store.subscribe((e: StoreEvent) => {
      if (e.resource === "daemonsets.apps")
        seen.push(`gen ${String(e.object.metadata.generation)} ${summary(e.object.status ?? {})}`);
    });
    setImage(c, "tapfleet/agent:2");
    for (let i = 0; i < 10; i++) clock.advance(1_000);
    expect(seen).toEqual([
      "gen 2 gen/obs 1 cur 3 upd 3 avl 3", // the patch itself
      "gen 2 gen/obs 2 cur 3 upd 0 avl 3", // observed: no pod is up to date
      "gen 2 gen/obs 2 cur 2 upd 0 avl 2", // one old pod deleted
      "gen 2 gen/obs 2 cur 3 upd 1 avl 2", // its replacement created
      "gen 2 gen/obs 2 cur 3 upd 1 avl 3", // …and Ready
      "gen 2 gen/obs 2 cur 2 upd 1 avl 2",
      "gen 2 gen/obs 2 cur 3 upd 2 avl 2",
      "gen 2 gen/obs 2 cur 3 upd 2 avl 3",
      "gen 2 gen/obs 2 cur 2 upd 2 avl 2",
      "gen 2 gen/obs 2 cur 3 upd 3 avl 2",
      "gen 2 gen/obs 2 cur 3 upd 3 avl 3",
    ]);
    expect(c.store.list("controllerrevisions.apps").items.map((r) => r.revision)).toEqual(
      expect.arrayContaining([1, 2]),
    );
  });

  it("rolls back through the revisions: the old template's revision becomes the newest and old-hash pods return", () => {
    const { c, clock } = start();
    c.store.create("daemonsets.apps", daemonSetFixture());
    clock.flush();
    const firstHash = agentPods(c)[0]!.metadata.labels!["controller-revision-hash"];
    setImage(c, "tapfleet/agent:2");
    clock.flush();
    // What `kubectl rollout undo` does: PATCH the template from the previous ControllerRevision.
    const revisions = c.store.list("controllerrevisions.apps").items;
    const previous = revisions.find((r) => r.revision === 1)!;
    const ds = structuredClone(c.store.get("daemonsets.apps", "default", "agent")!);
    const template = structuredClone((previous.data as { spec: { template: Json } }).spec.template);
    delete template.$patch;
    ds.spec!.template = template;
    c.store.update("daemonsets.apps", ds);
    clock.flush();
    const after = c.store.list("controllerrevisions.apps").items;
    expect(after.find((r) => r.metadata.name === previous.metadata.name)?.revision).toBe(3);
    expect(agentPods(c).map((p) => p.metadata.labels!["controller-revision-hash"])).toEqual([
      firstHash,
      firstHash,
      firstHash,
    ]);
    expect(status(c)).toMatchObject({ updatedNumberScheduled: 3, numberAvailable: 3, observedGeneration: 3 });
  });

  it("follows nodes: a new node gets a pod, a removed node's pod goes, a NoExecute taint evicts", () => {
    const { c, clock } = start();
    c.store.create("daemonsets.apps", daemonSetFixture());
    clock.flush();
    c.addNode("node-4", { labels: { zone: "b" } });
    clock.flush();
    expect(
      agentPods(c)
        .map((p) => p.spec?.nodeName)
        .sort(),
    ).toEqual(["node-1", "node-2", "node-3", "node-4"]);
    c.removeNode("node-1");
    c.taint("node-2", { key: "maintenance", effect: "NoExecute" });
    clock.flush();
    expect(
      agentPods(c)
        .map((p) => p.spec?.nodeName)
        .sort(),
    ).toEqual(["node-3", "node-4"]);
    expect(status(c)).toMatchObject({ desiredNumberScheduled: 2, numberAvailable: 2 });
    c.untaint("node-2", "maintenance");
    clock.flush();
    expect(
      agentPods(c)
        .map((p) => p.spec?.nodeName)
        .sort(),
    ).toEqual(["node-2", "node-3", "node-4"]);
  });

  it("leaves a NotReady node's deleted pod Terminating, and PodGC removes it when the node goes", () => {
    const { c, clock } = start();
    c.store.create("daemonsets.apps", daemonSetFixture());
    clock.flush();
    c.setNodeReady("node-3", false);
    clock.flush();
    const [pod] = c.store.podsOnNode("node-3");
    c.store.delete("pods", "default", pod!.metadata.name!);
    clock.flush();
    expect(c.store.get("pods", "default", pod!.metadata.name!)?.metadata.deletionTimestamp).toBeDefined();
    c.removeNode("node-3");
    clock.flush();
    expect(c.store.get("pods", "default", pod!.metadata.name!)).toBeUndefined();
  });

  it("keeps daemon pods on a cordoned node (they tolerate the unschedulable taint the node controller adds)", () => {
    const { c, clock } = start();
    c.store.create("daemonsets.apps", daemonSetFixture());
    clock.flush();
    const node = c.store.get("nodes", undefined, "node-1")!;
    c.store.update("nodes", { ...node, spec: { ...node.spec, unschedulable: true } });
    clock.flush();
    const taints = c.store.get("nodes", undefined, "node-1")!.spec?.taints as Json[];
    expect(taints).toEqual([
      expect.objectContaining({ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }),
    ]);
    expect(c.store.podsOnNode("node-1")).toHaveLength(1);
    expect(status(c)).toMatchObject({ desiredNumberScheduled: 3, numberAvailable: 3 });
  });

  it("marks a NotReady node's pods not ready and taints the node, and recovers", () => {
    const { c, clock } = start();
    c.store.create("daemonsets.apps", daemonSetFixture());
    clock.flush();
    c.setNodeReady("node-2", false);
    clock.flush();
    const node = c.store.get("nodes", undefined, "node-2")!;
    expect(node.status?.conditions).toContainEqual(
      expect.objectContaining({ type: "Ready", status: "False" }),
    );
    expect((node.spec?.taints as Json[]).map((t) => `${String(t.key)}:${String(t.effect)}`)).toEqual([
      "node.kubernetes.io/not-ready:NoSchedule",
      "node.kubernetes.io/not-ready:NoExecute",
    ]);
    const pod = c.store.podsOnNode("node-2")[0]!;
    expect(pod.status?.conditions).toContainEqual(
      expect.objectContaining({ type: "Ready", status: "False" }),
    );
    // The daemon pod tolerates not-ready:NoExecute, so it stays; the node no longer counts as desired.
    expect(status(c)).toMatchObject({ desiredNumberScheduled: 2, numberMisscheduled: 1, numberReady: 2 });
    c.setNodeReady("node-2", true);
    clock.flush();
    expect(c.store.get("nodes", undefined, "node-2")!.spec?.taints).toBeUndefined();
    expect(status(c)).toMatchObject({ desiredNumberScheduled: 3, numberReady: 3, numberAvailable: 3 });
  });

  it("crash-loops on demand with growing restarts and back-off, and a crash-looping rollout stalls at maxUnavailable", () => {
    const { c, clock } = start({ crashAfterMs: 500 });
    // Without probes a started container is Ready at once; minReadySeconds is what stops a rollout of crashers.
    c.store.create("daemonsets.apps", daemonSetFixture({ spec: { minReadySeconds: 5 } }));
    clock.advance(6_000);
    clock.flush();
    c.setCrashLoop("tapfleet/agent:2");
    setImage(c, "tapfleet/agent:2");
    clock.flush();
    clock.advance(500); // first crash, immediate restart
    clock.advance(500); // second crash: CrashLoopBackOff 10 s
    const [crashing] = agentPods(c).filter(
      (p) => (p.spec?.containers as Json[])[0]!.image === "tapfleet/agent:2",
    );
    const cs = (crashing!.status?.containerStatuses as Json[])[0]!;
    expect(cs).toMatchObject({
      ready: false,
      restartCount: 1,
      state: { waiting: { reason: "CrashLoopBackOff" } },
    });
    expect((cs.lastState as { terminated: Json }).terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    expect((cs.state as { waiting: { message: string } }).waiting.message).toMatch(
      /^back-off 10s restarting failed container=agent pod=agent-\w+_default\(/,
    );
    clock.advance(10_000);
    clock.advance(500);
    const later = c.store.get("pods", "default", crashing!.metadata.name!)!;
    expect((later.status?.containerStatuses as Json[])[0]).toMatchObject({ restartCount: 2 });
    for (let i = 0; i < 6; i++) clock.advance(30_000);
    // Only one node was ever given the broken template.
    expect(status(c)).toMatchObject({ updatedNumberScheduled: 1, numberAvailable: 2, numberUnavailable: 1 });
    // Repeats of one event are counted on it, as the event correlator does.
    const backOffs = c.store.list("events", {
      fieldSelector: `reason=BackOff,involvedObject.name=${crashing!.metadata.name}`,
    }).items;
    expect(backOffs).toHaveLength(1);
    expect(backOffs[0]).toMatchObject({
      type: "Warning",
      source: { component: "kubelet", host: crashing!.spec?.nodeName },
    });
    expect(backOffs[0]!.count).toBeGreaterThanOrEqual(3);
    expect(c.getLogs("default", crashing!.metadata.name!, { previous: true })).toContain(
      "exited with code 1",
    );
  });

  it("crashes containers when the crashWhen rule says so (e.g. a required variable is missing)", () => {
    const { c, clock } = start({
      crashAfterMs: 100,
      crashWhen: ({ env }) =>
        env.TAPFLEET_TOKEN ? false : { exitCode: 2, message: "TAPFLEET_TOKEN is required" },
    });
    c.store.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "agent", namespace: "default" },
      stringData: { token: "s3cret" },
    });
    c.store.create("daemonsets.apps", daemonSetFixture());
    clock.flush();
    clock.advance(100);
    expect(agentPods(c).every((p) => (p.status?.containerStatuses as Json[])[0]!.restartCount === 1)).toBe(
      true,
    );
    const good = structuredClone(c.store.get("daemonsets.apps", "default", "agent")!);
    (good.spec!.template as { spec: { containers: Json[] } }).spec.containers[0]!.env = [
      { name: "TAPFLEET_TOKEN", valueFrom: { secretKeyRef: { name: "agent", key: "token" } } },
    ];
    c.store.update("daemonsets.apps", good);
    for (let i = 0; i < 20; i++) clock.advance(1_000);
    expect(status(c)).toMatchObject({ updatedNumberScheduled: 3, numberAvailable: 3 });
  });

  it("garbage-collects pods and revisions when the DaemonSet is deleted; pods terminate through their kubelet", () => {
    const { c, clock } = start();
    c.store.create("daemonsets.apps", daemonSetFixture());
    clock.flush();
    c.store.delete("daemonsets.apps", "default", "agent", { propagationPolicy: "Background" });
    expect(agentPods(c).every((p) => p.metadata.deletionTimestamp !== undefined)).toBe(true);
    clock.flush();
    expect(agentPods(c)).toEqual([]);
    expect(c.store.list("controllerrevisions.apps").items).toEqual([]);
  });
});
