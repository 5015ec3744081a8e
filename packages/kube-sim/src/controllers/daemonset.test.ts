import { describe, expect, it } from "vitest";
import { createObjectStore } from "../store.ts";
import type { KubeObject } from "../types.ts";
import { makeNode } from "../cluster.ts";
import { daemonSetFixture } from "../testing/fixtures.ts";
import {
  REVISION_HASH_LABEL,
  TEMPLATE_GENERATION_LABEL,
  computeTemplateHash,
  nodeShouldRunDaemonPod,
  revisionData,
  scaledValue,
  syncDaemonSet,
  type DaemonSetAction,
  type DaemonSetStatus,
} from "./daemonset.ts";
import { daemonPodTolerations } from "./daemonset.ts";

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

type Json = Record<string, unknown>;

/** A DaemonSet as the API server stores it (defaults, generation, template-generation annotation). */
function storedDaemonSet(
  spec: Json = {},
  templateSpec: Json = {},
): { store: ReturnType<typeof createObjectStore>; ds: KubeObject } {
  const store = createObjectStore({ clock: { now: () => NOW, setTimeout: () => ({ cancel() {} }) } });
  const ds = store.create("daemonsets.apps", daemonSetFixture({ spec, podSpec: templateSpec }));
  return { store, ds };
}

function withImage(store: ReturnType<typeof createObjectStore>, ds: KubeObject, image: string): KubeObject {
  const next = structuredClone(ds);
  (next.spec!.template as { spec: { containers: { image: string }[] } }).spec.containers[0]!.image = image;
  return store.update("daemonsets.apps", next);
}

function node(
  name: string,
  extra: { labels?: Record<string, string>; taints?: Json[]; unschedulable?: boolean } = {},
): KubeObject {
  const n = makeNode({ name, ...(extra.labels ? { labels: extra.labels } : {}) }, NOW);
  if (extra.taints) n.spec = { ...n.spec, taints: extra.taints };
  if (extra.unschedulable) n.spec = { ...n.spec, unschedulable: true };
  return n;
}

let podSerial = 0;
/** A daemon pod on a node, for the DaemonSet's current template unless `hash` says otherwise. */
function daemonPod(
  ds: KubeObject,
  nodeName: string,
  opts: { hash?: string; ready?: boolean; readySince?: number; created?: number; phase?: string } = {},
): KubeObject {
  podSerial++;
  const hash = opts.hash ?? currentHash(ds);
  const ready = opts.ready ?? true;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `agent-${podSerial.toString().padStart(5, "0")}`,
      namespace: "default",
      uid: `uid-${podSerial}`,
      creationTimestamp: new Date(opts.created ?? NOW - 60_000).toISOString().replace(".000Z", "Z"),
      labels: {
        app: "agent",
        [REVISION_HASH_LABEL]: hash,
        [TEMPLATE_GENERATION_LABEL]:
          hash === currentHash(ds)
            ? ds.metadata.annotations!["deprecated.daemonset.template.generation"]!
            : "0",
      },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "DaemonSet", name: "agent", uid: ds.metadata.uid!, controller: true },
      ],
    },
    spec: { nodeName, containers: [{ name: "agent", image: "x" }] },
    status: {
      phase: opts.phase ?? "Running",
      conditions: [
        {
          type: "Ready",
          status: ready ? "True" : "False",
          lastTransitionTime: new Date(opts.readySince ?? NOW - 60_000).toISOString().replace(".000Z", "Z"),
        },
      ],
    },
  };
}

function currentHash(ds: KubeObject): string {
  return computeTemplateHash(ds.spec!.template, undefined);
}

function revisionFor(ds: KubeObject, revision: number): KubeObject {
  const hash = currentHash(ds);
  return {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name: `agent-${hash}`,
      namespace: "default",
      labels: { app: "agent", [REVISION_HASH_LABEL]: hash },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "DaemonSet", name: "agent", uid: ds.metadata.uid!, controller: true },
      ],
    },
    data: revisionData(ds),
    revision,
  };
}

const of = <T extends DaemonSetAction["type"]>(actions: DaemonSetAction[], type: T) =>
  actions.filter((a): a is Extract<DaemonSetAction, { type: T }> => a.type === type);
const statusOf = (actions: DaemonSetAction[]): DaemonSetStatus | undefined =>
  of(actions, "updateStatus")[0]?.status;

describe("syncDaemonSet: placement", () => {
  it("creates one pod per eligible node and none where the selector, affinity or an untolerated taint says no", () => {
    const { ds } = storedDaemonSet(
      {},
      {
        nodeSelector: { "kubernetes.io/os": "linux" },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["gpu"] }] },
              ],
            },
          },
        },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "sensors", effect: "NoSchedule" }],
      },
    );
    const nodes = [
      node("plain"),
      node("windows", { labels: { "kubernetes.io/os": "windows" } }),
      node("gpu", { labels: { tier: "gpu" } }),
      node("tainted", { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] }),
      node("tolerated", { taints: [{ key: "dedicated", value: "sensors", effect: "NoSchedule" }] }),
      node("soft", { taints: [{ key: "x", effect: "PreferNoSchedule" }] }),
      // DaemonSet pods tolerate node.kubernetes.io/unschedulable: cordoned nodes keep their daemons.
      node("cordoned", {
        unschedulable: true,
        taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }],
      }),
    ];
    const actions = syncDaemonSet({ ds, nodes, pods: [], revisions: [], now: NOW });
    expect(
      of(actions, "createPod")
        .map((a) => a.nodeName)
        .sort(),
    ).toEqual(["cordoned", "plain", "soft", "tolerated"]);
    // Status describes what the sync started from; the created pods count in the next sync.
    expect(statusOf(actions)).toEqual({
      desiredNumberScheduled: 4,
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      numberReady: 0,
      numberUnavailable: 4,
      observedGeneration: 1,
    });
  });

  it("builds pods the way the real controller does", () => {
    const { ds } = storedDaemonSet({}, { hostNetwork: true });
    const [create] = of(
      syncDaemonSet({ ds, nodes: [node("n1")], pods: [], revisions: [], now: NOW }),
      "createPod",
    );
    const pod = create!.pod;
    expect(pod.metadata.generateName).toBe("agent-");
    expect(pod.metadata.ownerReferences).toEqual([
      {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        name: "agent",
        uid: ds.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(pod.metadata.labels).toEqual({
      app: "agent",
      [REVISION_HASH_LABEL]: currentHash(ds),
      [TEMPLATE_GENERATION_LABEL]: "1",
    });
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.spec?.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }],
        },
      },
    });
    const keys = (pod.spec?.tolerations as { key: string; effect: string }[]).map(
      (t) => `${t.key}:${t.effect}`,
    );
    expect(keys).toEqual([
      "node.kubernetes.io/not-ready:NoExecute",
      "node.kubernetes.io/unreachable:NoExecute",
      "node.kubernetes.io/disk-pressure:NoSchedule",
      "node.kubernetes.io/memory-pressure:NoSchedule",
      "node.kubernetes.io/pid-pressure:NoSchedule",
      "node.kubernetes.io/unschedulable:NoSchedule",
      "node.kubernetes.io/network-unavailable:NoSchedule",
    ]);
  });

  it.each([
    ["NoSchedule", { shouldRun: false, shouldContinueRunning: true }],
    ["NoExecute", { shouldRun: false, shouldContinueRunning: false }],
    ["PreferNoSchedule", { shouldRun: true, shouldContinueRunning: true }],
  ])("an untolerated %s taint gives %j", (effect, expected) => {
    const { ds } = storedDaemonSet();
    const podSpec = (ds.spec!.template as { spec: Json }).spec;
    expect(
      nodeShouldRunDaemonPod(
        node("n", { taints: [{ key: "k", effect }] }),
        podSpec,
        daemonPodTolerations(podSpec),
      ),
    ).toEqual(expected);
  });

  it("deletes a pod on a node with an untolerated NoExecute taint, keeps it (misscheduled) under NoSchedule", () => {
    const { ds } = storedDaemonSet();
    const pods = [daemonPod(ds, "evict"), daemonPod(ds, "keep")];
    const nodes = [
      node("evict", { taints: [{ key: "k", effect: "NoExecute" }] }),
      node("keep", { taints: [{ key: "k", effect: "NoSchedule" }] }),
    ];
    const actions = syncDaemonSet({ ds, nodes, pods, revisions: [revisionFor(ds, 1)], now: NOW });
    expect(of(actions, "deletePod").map((a) => a.name)).toEqual([pods[0]!.metadata.name]);
    expect(of(actions, "createPod")).toEqual([]);
    expect(statusOf(actions)).toMatchObject({ desiredNumberScheduled: 0, numberMisscheduled: 2 });
    const next = syncDaemonSet({ ds, nodes, pods: [pods[1]!], revisions: [revisionFor(ds, 1)], now: NOW });
    expect(statusOf(next)).toMatchObject({ desiredNumberScheduled: 0, numberMisscheduled: 1 });
  });

  it("deletes pods whose node is gone and extra pods on a node (keeping the oldest)", () => {
    const { ds } = storedDaemonSet();
    const oldest = daemonPod(ds, "n1", { created: NOW - 120_000 });
    const younger = daemonPod(ds, "n1", { created: NOW - 10_000 });
    const orphan = daemonPod(ds, "gone");
    const actions = syncDaemonSet({
      ds,
      nodes: [node("n1")],
      pods: [oldest, younger, orphan],
      revisions: [revisionFor(ds, 1)],
      now: NOW,
    });
    expect(
      of(actions, "deletePod")
        .map((a) => a.name)
        .sort(),
    ).toEqual([younger.metadata.name, orphan.metadata.name].sort());
  });

  it("replaces a Failed pod", () => {
    const { ds } = storedDaemonSet();
    const failed = daemonPod(ds, "n1", { phase: "Failed", ready: false });
    const actions = syncDaemonSet({
      ds,
      nodes: [node("n1")],
      pods: [failed],
      revisions: [revisionFor(ds, 1)],
      now: NOW,
    });
    expect(of(actions, "deletePod").map((a) => a.name)).toEqual([failed.metadata.name]);
  });
});

describe("syncDaemonSet: revisions", () => {
  it("creates revision 1 holding the template as a replace patch, once", () => {
    const { ds } = storedDaemonSet();
    const [create] = of(
      syncDaemonSet({ ds, nodes: [], pods: [], revisions: [], now: NOW }),
      "createRevision",
    );
    const revision = create!.revision;
    expect(revision.metadata.name).toBe(`agent-${currentHash(ds)}`);
    expect(revision.revision).toBe(1);
    expect(revision.metadata.labels?.[REVISION_HASH_LABEL]).toBe(currentHash(ds));
    const template = (revision.data as { spec: { template: Json } }).spec.template;
    expect(Object.keys(template)).toEqual(["$patch", "metadata", "spec"]);
    expect(template.$patch).toBe("replace");
    expect(template.metadata).toEqual({ creationTimestamp: null, labels: { app: "agent" } });
    expect(
      of(syncDaemonSet({ ds, nodes: [], pods: [], revisions: [revision], now: NOW }), "createRevision"),
    ).toEqual([]);
  });

  it("makes an older matching revision current again on rollback, reusing its hash", () => {
    const { store, ds: v1 } = storedDaemonSet();
    const rev1 = revisionFor(v1, 1);
    const v2 = withImage(store, v1, "tapfleet/agent:2");
    const rev2 = revisionFor(v2, 2);
    const back = withImage(store, v2, "tapfleet/agent:1");
    const actions = syncDaemonSet({
      ds: back,
      nodes: [node("n1")],
      pods: [daemonPod(v2, "n1", { hash: rev2.metadata.labels![REVISION_HASH_LABEL] })],
      revisions: [rev1, rev2],
      now: NOW,
    });
    expect(of(actions, "createRevision")).toEqual([]);
    expect(of(actions, "updateRevision")).toEqual([
      { type: "updateRevision", name: rev1.metadata.name, revision: 3 },
    ]);
    // The v2 pod is now the old one: the rolling update deletes it.
    expect(of(actions, "deletePod")).toHaveLength(1);
  });

  it("keeps revisionHistoryLimit old revisions that no pod uses, deleting the oldest", () => {
    const { store, ds: v1 } = storedDaemonSet({ revisionHistoryLimit: 1 });
    const revisions = [revisionFor(v1, 1)];
    let ds = v1;
    for (const [i, image] of ["a:2", "a:3", "a:4"].entries()) {
      ds = withImage(store, ds, image);
      revisions.push(revisionFor(ds, i + 2));
    }
    const actions = syncDaemonSet({ ds, nodes: [], pods: [], revisions, now: NOW });
    expect(of(actions, "deleteRevision").map((a) => a.name)).toEqual([
      revisions[0]!.metadata.name,
      revisions[1]!.metadata.name,
    ]);
  });

  it("bumps collisionCount when another revision holds the name", () => {
    const { ds } = storedDaemonSet();
    const squatter = { ...revisionFor(ds, 1), data: { other: true } };
    const actions = syncDaemonSet({ ds, nodes: [], pods: [], revisions: [squatter], now: NOW });
    expect(actions).toEqual([
      { type: "updateStatus", status: expect.objectContaining({ collisionCount: 1 }) },
    ]);
  });
});

describe("syncDaemonSet: rolling update", () => {
  function rolling(strategy: Json, nodeCount: number, extra: Json = {}) {
    const { store, ds: v1 } = storedDaemonSet({ updateStrategy: strategy, ...extra });
    const nodes = Array.from({ length: nodeCount }, (_, i) => node(`n${i + 1}`));
    const oldPods = nodes.map((n) => daemonPod(v1, n.metadata.name!));
    const rev1 = revisionFor(v1, 1);
    const v2 = withImage(store, v1, "tapfleet/agent:2");
    const rev2 = revisionFor(v2, 2);
    return { v2, nodes, oldPods, revisions: [rev1, rev2] };
  }

  it("with maxUnavailable 1 deletes one available old pod and reports observedGeneration", () => {
    const { v2, nodes, oldPods, revisions } = rolling(
      { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      3,
    );
    const actions = syncDaemonSet({ ds: v2, nodes, pods: oldPods, revisions, now: NOW });
    const deleted = of(actions, "deletePod");
    expect(deleted).toHaveLength(1);
    expect(of(actions, "createPod")).toEqual([]);
    // updatedNumberScheduled 0 is omitted (omitempty), as the API server serialises it.
    expect(statusOf(actions)).toEqual({
      currentNumberScheduled: 3,
      numberMisscheduled: 0,
      desiredNumberScheduled: 3,
      numberReady: 3,
      observedGeneration: 2,
      numberAvailable: 3,
    });
    const next = syncDaemonSet({
      ds: v2,
      nodes,
      pods: oldPods.filter((p) => p.metadata.name !== deleted[0]!.name),
      revisions,
      now: NOW,
    });
    expect(of(next, "createPod")).toHaveLength(1);
    expect(statusOf(next)).toEqual({
      currentNumberScheduled: 2,
      numberMisscheduled: 0,
      desiredNumberScheduled: 3,
      numberReady: 2,
      observedGeneration: 2,
      numberAvailable: 2,
      numberUnavailable: 1,
    });
  });

  it("waits while a new pod is unavailable, and always replaces unavailable old pods", () => {
    const { v2, nodes, oldPods, revisions } = rolling(
      { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      4,
    );
    const newPod = daemonPod(v2, "n1", { ready: false });
    const brokenOld = daemonPod(v2, "n2", {
      hash: oldPods[1]!.metadata.labels![REVISION_HASH_LABEL],
      ready: false,
    });
    const pods = [newPod, brokenOld, oldPods[2]!, oldPods[3]!];
    const actions = syncDaemonSet({ ds: v2, nodes, pods, revisions, now: NOW });
    expect(of(actions, "deletePod").map((a) => a.name)).toEqual([brokenOld.metadata.name]);
  });

  it.each([
    ["10%", 25, 3],
    ["50%", 3, 2],
    [2, 10, 2],
  ])(
    "maxUnavailable %j of %i nodes deletes %i pods at once (percentages round up)",
    (maxUnavailable, nodeCount, expected) => {
      const { v2, nodes, oldPods, revisions } = rolling(
        { type: "RollingUpdate", rollingUpdate: { maxUnavailable, maxSurge: 0 } },
        nodeCount,
      );
      expect(
        of(syncDaemonSet({ ds: v2, nodes, pods: oldPods, revisions, now: NOW }), "deletePod"),
      ).toHaveLength(expected);
    },
  );

  it("treats maxUnavailable 0 with maxSurge 0 as maxUnavailable 1", () => {
    expect(scaledValue("0%", 10)).toBe(0);
    const { v2, nodes, oldPods, revisions } = rolling(
      { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } },
      5,
    );
    expect(
      of(syncDaemonSet({ ds: v2, nodes, pods: oldPods, revisions, now: NOW }), "deletePod"),
    ).toHaveLength(1);
  });

  it("with maxSurge creates the new pod beside the old one, then deletes the old one once the new one is available", () => {
    const { v2, nodes, oldPods, revisions } = rolling(
      { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      3,
    );
    const first = syncDaemonSet({ ds: v2, nodes, pods: oldPods, revisions, now: NOW });
    expect(of(first, "deletePod")).toEqual([]);
    const created = of(first, "createPod");
    expect(created).toHaveLength(1);
    const surgeNode = created[0]!.nodeName;
    const oldThere = oldPods.find((p) => p.spec?.nodeName === surgeNode)!;

    const notYet = daemonPod(v2, surgeNode, { ready: false, created: NOW });
    const waiting = syncDaemonSet({ ds: v2, nodes, pods: [...oldPods, notYet], revisions, now: NOW });
    expect(of(waiting, "deletePod")).toEqual([]);
    expect(of(waiting, "createPod")).toEqual([]);

    const up = daemonPod(v2, surgeNode, { ready: true, created: NOW });
    const swap = syncDaemonSet({ ds: v2, nodes, pods: [...oldPods, up], revisions, now: NOW });
    expect(of(swap, "deletePod").map((a) => a.name)).toEqual([oldThere.metadata.name]);
  });

  it("with maxSurge and minReadySeconds, asks to be woken when the new pod turns available, then deletes the old one", () => {
    const { v2, nodes, oldPods, revisions } = rolling(
      { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      1,
      { minReadySeconds: 30 },
    );
    const surged = daemonPod(v2, "n1", { readySince: NOW - 10_000 });
    const waiting = syncDaemonSet({ ds: v2, nodes, pods: [...oldPods, surged], revisions, now: NOW });
    expect(of(waiting, "deletePod")).toEqual([]);
    expect(of(waiting, "requeueAfter")).toEqual([{ type: "requeueAfter", ms: 20_001 }]);
    const later = syncDaemonSet({ ds: v2, nodes, pods: [...oldPods, surged], revisions, now: NOW + 21_000 });
    expect(of(later, "deletePod").map((a) => a.name)).toEqual([oldPods[0]!.metadata.name]);
  });

  it("counts a pod available only minReadySeconds after it became ready, and asks to be woken then", () => {
    const { v2, nodes, revisions } = rolling(
      { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      1,
      { minReadySeconds: 30 },
    );
    const fresh = daemonPod(v2, "n1", { readySince: NOW - 10_000 });
    const actions = syncDaemonSet({ ds: v2, nodes, pods: [fresh], revisions, now: NOW });
    expect(statusOf(actions)).toMatchObject({
      numberReady: 1,
      numberUnavailable: 1,
      updatedNumberScheduled: 1,
    });
    expect(statusOf(actions)?.numberAvailable).toBeUndefined();
    expect(of(actions, "requeueAfter")).toEqual([{ type: "requeueAfter", ms: 20_001 }]);
    const later = syncDaemonSet({ ds: v2, nodes, pods: [fresh], revisions, now: NOW + 21_000 });
    expect(statusOf(later)).toMatchObject({ numberAvailable: 1 });
  });

  it("with OnDelete replaces nothing until a pod is deleted, then creates it from the new template", () => {
    const { v2, nodes, oldPods, revisions } = rolling({ type: "OnDelete" }, 2);
    const idle = syncDaemonSet({ ds: v2, nodes, pods: oldPods, revisions, now: NOW });
    expect(of(idle, "deletePod")).toEqual([]);
    expect(statusOf(idle)?.updatedNumberScheduled).toBeUndefined();
    const afterDelete = syncDaemonSet({ ds: v2, nodes, pods: [oldPods[0]!], revisions, now: NOW });
    const created = of(afterDelete, "createPod");
    expect(created.map((c) => c.nodeName)).toEqual(["n2"]);
    expect(created[0]!.pod.metadata.labels?.[REVISION_HASH_LABEL]).toBe(currentHash(v2));
  });

  it("writes no status when nothing changed", () => {
    const { ds } = storedDaemonSet();
    const pods = [daemonPod(ds, "n1")];
    const first = statusOf(
      syncDaemonSet({ ds, nodes: [node("n1")], pods, revisions: [revisionFor(ds, 1)], now: NOW }),
    )!;
    const settled = { ...ds, status: { ...first } };
    expect(
      syncDaemonSet({ ds: settled, nodes: [node("n1")], pods, revisions: [revisionFor(ds, 1)], now: NOW }),
    ).toEqual([]);
  });
});
