import { trimNode, trimPod, trimSensorDaemonSet } from "@tapfleet/kube";
import { describe, expect, it } from "vitest";
import { nodeShouldRunDaemonSet } from "../placement.ts";
import {
  daemonSetStatusFromKube,
  daemonSetStatusesFromKube,
  inventoryDaemonSetFromKube,
  inventoryInputsFromKube,
  inventoryNodeFromKube,
  reportIntervalFromKube,
} from "./kube-mapper.ts";

const rawNode = {
  metadata: { name: "node-1", uid: "n1", resourceVersion: "1", labels: { zone: "a" } },
  spec: {
    taints: [
      { key: "dedicated", value: "db", effect: "NoSchedule" },
      { key: "odd", effect: "SomethingNew" },
    ],
  },
  status: {
    conditions: [
      {
        type: "Ready",
        status: "False",
        reason: "KubeletNotReady",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      },
    ],
  },
};

function rawDaemonSet(env: { name: string; value?: string; valueFrom?: object }[], podSpec: object = {}) {
  return {
    metadata: {
      name: "sensor",
      namespace: "tapfleet",
      uid: "ds1",
      resourceVersion: "1",
      labels: { "app.kubernetes.io/part-of": "tapfleet" },
    },
    spec: {
      selector: { matchLabels: { app: "sensor" } },
      template: { spec: { containers: [{ name: "agent", image: "tapfleet/agent:1", env }], ...podSpec } },
    },
  };
}

describe("kube → inventory mapper", () => {
  it("maps a node: known taint effects only, the Ready condition", () => {
    expect(inventoryNodeFromKube(trimNode(rawNode))).toEqual({
      name: "node-1",
      labels: { zone: "a" },
      taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }],
      unschedulable: false,
      ready: { status: "False", reason: "KubeletNotReady", lastTransitionTime: "2026-01-01T00:00:00Z" },
    });
    expect(inventoryNodeFromKube(trimNode({ metadata: { name: "fresh" } })).ready).toBeNull();
  });

  it.each([
    ["a whole number", [{ name: "TAPFLEET_REPORT_INTERVAL", value: "30" }], 30],
    ["unset", [], null],
    [
      "from a ConfigMap",
      [{ name: "TAPFLEET_REPORT_INTERVAL", valueFrom: { configMapKeyRef: { name: "c", key: "k" } } }],
      null,
    ],
    ["not a number", [{ name: "TAPFLEET_REPORT_INTERVAL", value: "soon" }], null],
    ["above the bound", [{ name: "TAPFLEET_REPORT_INTERVAL", value: "3601" }], null],
    ["zero", [{ name: "TAPFLEET_REPORT_INTERVAL", value: "0" }], null],
  ])("reads the report interval from the template env: %s", (_, env, expected) => {
    expect(reportIntervalFromKube(trimSensorDaemonSet(rawDaemonSet(env))!)).toBe(expected);
  });

  it("maps a DaemonSet's placement rules so the coverage rules read them as Kubernetes does", () => {
    const daemonSet = inventoryDaemonSetFromKube(
      trimSensorDaemonSet(
        rawDaemonSet([], {
          hostNetwork: true,
          nodeSelector: { zone: "a" },
          tolerations: [{ key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] },
                ],
              },
            },
          },
        }),
      )!,
    );
    expect(daemonSet).toMatchObject({
      namespace: "tapfleet",
      name: "sensor",
      hostNetwork: true,
      nodeSelector: { zone: "a" },
      requiredNodeAffinity: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }],
      tolerations: [{ key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }],
      reportIntervalSeconds: null,
    });
    const node = { ...inventoryNodeFromKube(trimNode(rawNode)), ready: { status: "True" as const } };
    expect(nodeShouldRunDaemonSet({ node, daemonSet })).toEqual({ shouldRun: true });
    const untolerating = inventoryDaemonSetFromKube(trimSensorDaemonSet(rawDaemonSet([]))!);
    expect(nodeShouldRunDaemonSet({ node, daemonSet: untolerating })).toMatchObject({
      shouldRun: false,
      reason: "Taint dedicated=db:NoSchedule is not tolerated.",
    });
  });

  it("maps pods: the owner's name by uid, phase, conditions and container states", () => {
    const pod = trimPod({
      metadata: {
        name: "sensor-abc",
        namespace: "tapfleet",
        uid: "p1",
        resourceVersion: "1",
        creationTimestamp: "2026-01-01T00:00:00Z",
        ownerReferences: [{ kind: "DaemonSet", uid: "ds1", controller: true, name: "sensor" }],
      },
      spec: { nodeName: "node-1" },
      status: {
        phase: "Running",
        conditions: [
          { type: "Ready", status: "False" },
          { type: "PodScheduled", status: "True" },
        ],
        containerStatuses: [
          {
            name: "agent",
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s" } },
            lastState: { terminated: { exitCode: 2, reason: "Error" } },
          },
        ],
      },
    });
    const inputs = inventoryInputsFromKube({
      nodes: [],
      daemonSets: [trimSensorDaemonSet(rawDaemonSet([]))!],
      pods: [pod, { ...pod, name: "orphan", daemonSetUid: "gone" }],
    });
    expect(inputs.pods[0]).toEqual({
      namespace: "tapfleet",
      name: "sensor-abc",
      daemonSet: "sensor",
      nodeName: "node-1",
      phase: "Running",
      createdAt: "2026-01-01T00:00:00Z",
      scheduled: { status: "True" },
      ready: { status: "False" },
      containerStatuses: [
        {
          name: "agent",
          ready: false,
          restartCount: 3,
          state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s" } },
          lastState: { terminated: { exitCode: 2, reason: "Error" } },
        },
      ],
    });
    expect(inputs.pods[1]!.daemonSet).toBeNull();
  });

  // Statuses as the simulated DaemonSet controller writes them through a rolling update of 3 nodes.
  const settled = {
    desiredNumberScheduled: 3,
    currentNumberScheduled: 3,
    numberReady: 3,
    updatedNumberScheduled: 3,
    numberAvailable: 3,
    numberMisscheduled: 0,
    observedGeneration: 1,
  };
  it.each([
    ["settled", 1, settled, { upToDate: 3, observedGeneration: 1, rollingOut: false }],
    [
      "a new spec the controller has not observed yet",
      2,
      settled,
      { observedGeneration: 1, rollingOut: true },
    ],
    [
      "observed, one pod replaced, one not Ready yet",
      2,
      {
        ...settled,
        observedGeneration: 2,
        updatedNumberScheduled: 1,
        numberReady: 2,
        numberAvailable: 2,
        numberUnavailable: 1,
      },
      { ready: 2, upToDate: 1, available: 2, unavailable: 1, observedGeneration: 2, rollingOut: true },
    ],
    ["every pod replaced", 2, { ...settled, observedGeneration: 2 }, { upToDate: 3, rollingOut: false }],
    [
      "a node left that still runs a pod",
      1,
      { ...settled, desiredNumberScheduled: 2, numberMisscheduled: 1, updatedNumberScheduled: 2 },
      { desired: 2, current: 3, misscheduled: 1, upToDate: 2, rollingOut: false },
    ],
    [
      "never observed (no status yet)",
      1,
      {},
      { desired: 0, current: 0, observedGeneration: null, rollingOut: true },
    ],
  ])("maps a DaemonSet's status as kubectl shows it: %s", (_case, generation, simStatus, expected) => {
    const status: Partial<typeof settled> = simStatus;
    const raw = rawDaemonSet([{ name: "VSENSOR_HOSTNAME", value: "x" }]);
    const daemonSet = trimSensorDaemonSet({
      ...raw,
      metadata: { ...raw.metadata, generation },
      status: simStatus,
    })!;
    expect(daemonSetStatusFromKube(daemonSet)).toEqual({
      desired: status.desiredNumberScheduled ?? 0,
      current: status.currentNumberScheduled ?? 0,
      ready: status.numberReady ?? 0,
      upToDate: status.updatedNumberScheduled ?? 0,
      available: status.numberAvailable ?? 0,
      unavailable: 0,
      misscheduled: status.numberMisscheduled ?? 0,
      generation,
      observedGeneration: status.observedGeneration ?? null,
      ...expected,
    });
  });

  it("keys the statuses by namespace/name, as the coverage summaries", () => {
    const daemonSet = trimSensorDaemonSet({
      ...rawDaemonSet([]),
      metadata: { ...rawDaemonSet([]).metadata, generation: 4 },
      status: { ...settled, observedGeneration: 4 },
    })!;
    expect(Object.keys(daemonSetStatusesFromKube([daemonSet]))).toEqual(["tapfleet/sensor"]);
    expect(daemonSetStatusesFromKube([daemonSet])["tapfleet/sensor"]).toMatchObject({
      generation: 4,
      observedGeneration: 4,
      rollingOut: false,
    });
  });
});
