import { trimNode, trimPod, trimSensorDaemonSet } from "@tapfleet/kube";
import { describe, expect, it } from "vitest";
import { nodeShouldRunDaemonSet } from "../placement.ts";
import {
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
});
