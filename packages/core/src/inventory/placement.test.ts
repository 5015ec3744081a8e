import { describe, expect, it } from "vitest";
import { makeDaemonSet, makeNode } from "./fixtures.test-helpers.ts";
import { nodeShouldRunDaemonSet, tolerationToleratesTaint, type NodePlacement } from "./placement.ts";
import type { InventoryDaemonSet, InventoryNode, InventoryTaint, InventoryToleration } from "./types.ts";

const run: NodePlacement = { shouldRun: true };
const excluded = (reason: string, shouldContinueRunning = false): NodePlacement => ({
  shouldRun: false,
  reason,
  shouldContinueRunning,
});

function placement(node: Partial<InventoryNode>, daemonSet: Partial<InventoryDaemonSet>): NodePlacement {
  return nodeShouldRunDaemonSet({ node: makeNode(node), daemonSet: makeDaemonSet(daemonSet) });
}

describe("nodeShouldRunDaemonSet: nodeSelector", () => {
  it.each<{
    name: string;
    labels: Record<string, string>;
    selector: Record<string, string>;
    expected: NodePlacement;
  }>([
    { name: "no selector", labels: {}, selector: {}, expected: run },
    {
      name: "every label equal",
      labels: { role: "worker", zone: "a" },
      selector: { role: "worker" },
      expected: run,
    },
    {
      name: "a label with another value",
      labels: { role: "edge" },
      selector: { role: "worker" },
      expected: excluded("Label role=edge does not match the nodeSelector role=worker."),
    },
    {
      name: "a missing label",
      labels: { "node-role": "edge" },
      selector: { role: "worker" },
      expected: excluded("Node has no label role; the nodeSelector wants role=worker."),
    },
    {
      name: "one of two labels differs",
      labels: { role: "worker", zone: "b" },
      selector: { role: "worker", zone: "a" },
      expected: excluded("Label zone=b does not match the nodeSelector zone=a."),
    },
  ])("$name", ({ labels, selector, expected }) => {
    expect(placement({ labels }, { nodeSelector: selector })).toEqual(expected);
  });

  it("excludes every node but the template's nodeName", () => {
    expect(placement({ name: "node-a" }, { nodeName: "node-a" })).toEqual(run);
    expect(placement({ name: "node-b" }, { nodeName: "node-a" })).toEqual(
      excluded("The DaemonSet's pod template is pinned to node node-a."),
    );
  });
});

describe("nodeShouldRunDaemonSet: required node affinity", () => {
  const labels = { zone: "b", cores: "8", gpu: "" };
  const term = (...matchExpressions: { key: string; operator: string; values?: string[] }[]) =>
    ({ matchExpressions }) as NonNullable<InventoryDaemonSet["requiredNodeAffinity"]>[number];

  it.each([
    // operator In
    { name: "In holds", terms: [term({ key: "zone", operator: "In", values: ["a", "b"] })], reason: null },
    {
      name: "In fails",
      terms: [term({ key: "zone", operator: "In", values: ["a", "c"] })],
      reason: "Required node affinity: zone In (a, c) does not hold: the node has zone=b.",
    },
    {
      name: "In on a missing label",
      terms: [term({ key: "rack", operator: "In", values: ["r1"] })],
      reason: "Required node affinity: rack In (r1) does not hold: the node has no label rack.",
    },
    // operator NotIn
    { name: "NotIn holds", terms: [term({ key: "zone", operator: "NotIn", values: ["a"] })], reason: null },
    {
      name: "NotIn holds on a missing label",
      terms: [term({ key: "rack", operator: "NotIn", values: ["r1"] })],
      reason: null,
    },
    {
      name: "NotIn fails",
      terms: [term({ key: "zone", operator: "NotIn", values: ["b"] })],
      reason: "Required node affinity: zone NotIn (b) does not hold: the node has zone=b.",
    },
    // operator Exists (an empty value still exists)
    { name: "Exists holds", terms: [term({ key: "gpu", operator: "Exists" })], reason: null },
    {
      name: "Exists fails",
      terms: [term({ key: "rack", operator: "Exists" })],
      reason: "Required node affinity: rack Exists does not hold: the node has no label rack.",
    },
    // operator DoesNotExist
    { name: "DoesNotExist holds", terms: [term({ key: "rack", operator: "DoesNotExist" })], reason: null },
    {
      name: "DoesNotExist fails",
      terms: [term({ key: "zone", operator: "DoesNotExist" })],
      reason: "Required node affinity: zone DoesNotExist does not hold: the node has zone=b.",
    },
    // operators Gt and Lt compare integers
    { name: "Gt holds", terms: [term({ key: "cores", operator: "Gt", values: ["4"] })], reason: null },
    {
      name: "Gt fails on equal",
      terms: [term({ key: "cores", operator: "Gt", values: ["8"] })],
      reason: "Required node affinity: cores Gt 8 does not hold: the node has cores=8.",
    },
    { name: "Lt holds", terms: [term({ key: "cores", operator: "Lt", values: ["16"] })], reason: null },
    {
      name: "Lt fails",
      terms: [term({ key: "cores", operator: "Lt", values: ["2"] })],
      reason: "Required node affinity: cores Lt 2 does not hold: the node has cores=8.",
    },
    {
      name: "Gt on a label that is not an integer",
      terms: [term({ key: "zone", operator: "Gt", values: ["1"] })],
      reason: "Required node affinity: zone Gt 1 does not hold: the node's zone=b is not an integer.",
    },
    {
      name: "Gt with two values is invalid",
      terms: [term({ key: "cores", operator: "Gt", values: ["1", "2"] })],
      reason: "Required node affinity: cores Gt 1 is invalid: Gt needs one integer value.",
    },
    {
      name: "In without values is invalid",
      terms: [term({ key: "zone", operator: "In", values: [] })],
      reason: "Required node affinity: zone In () is invalid: In needs at least one value.",
    },
    // Expressions of a term are ANDed, terms are ORed.
    {
      name: "ANDed: one failing expression fails the term",
      terms: [
        term({ key: "zone", operator: "In", values: ["b"] }, { key: "cores", operator: "Gt", values: ["8"] }),
      ],
      reason: "Required node affinity: cores Gt 8 does not hold: the node has cores=8.",
    },
    {
      name: "ORed: a second term matches",
      terms: [
        term({ key: "zone", operator: "In", values: ["a"] }),
        term({ key: "zone", operator: "In", values: ["b"] }),
      ],
      reason: null,
    },
    {
      name: "ORed: no term matches, every term's reason",
      terms: [
        term({ key: "zone", operator: "In", values: ["a"] }),
        term({ key: "rack", operator: "Exists" }),
      ],
      reason:
        "No term of the required node affinity matches: term 1: zone In (a) does not hold: the node has zone=b; term 2: rack Exists does not hold: the node has no label rack.",
    },
    {
      name: "an empty term selects nothing",
      terms: [{}],
      reason: "Required node affinity: the term is empty and selects no node.",
    },
    {
      name: "no terms select nothing",
      terms: [],
      reason: "The required node affinity has no terms and selects no node.",
    },
    // matchFields: metadata.name with In / NotIn and one value.
    {
      name: "matchFields metadata.name In holds",
      terms: [{ matchFields: [{ key: "metadata.name", operator: "In" as const, values: ["node-a"] }] }],
      reason: null,
    },
    {
      name: "matchFields metadata.name In fails",
      terms: [{ matchFields: [{ key: "metadata.name", operator: "In" as const, values: ["node-b"] }] }],
      reason: "Required node affinity: field metadata.name In (node-b) does not hold: the node is node-a.",
    },
    {
      name: "matchFields metadata.name NotIn",
      terms: [{ matchFields: [{ key: "metadata.name", operator: "NotIn" as const, values: ["node-a"] }] }],
      reason: "Required node affinity: field metadata.name NotIn (node-a) does not hold: the node is node-a.",
    },
    {
      name: "matchFields on another field is invalid",
      terms: [{ matchFields: [{ key: "metadata.uid", operator: "In" as const, values: ["x"] }] }],
      reason:
        "Required node affinity: field metadata.uid In (x) is invalid: only metadata.name can be matched as a field.",
    },
  ])("$name", ({ terms, reason }) => {
    const result = placement({ labels }, { requiredNodeAffinity: terms });
    expect(result).toEqual(reason === null ? run : excluded(reason));
  });

  it("checks the nodeSelector before the affinity", () => {
    expect(
      placement(
        { labels: { role: "edge" } },
        { nodeSelector: { role: "worker" }, requiredNodeAffinity: [term({ key: "x", operator: "Exists" })] },
      ),
    ).toEqual(excluded("Label role=edge does not match the nodeSelector role=worker."));
  });
});

describe("nodeShouldRunDaemonSet: taints and tolerations", () => {
  const infra: InventoryTaint = { key: "dedicated", value: "infra", effect: "NoSchedule" };
  it.each<{
    name: string;
    taints: InventoryTaint[];
    tolerations: InventoryToleration[];
    hostNetwork?: boolean;
    expected: NodePlacement;
  }>([
    { name: "no taints", taints: [], tolerations: [], expected: run },
    {
      name: "NoSchedule not tolerated",
      taints: [infra],
      tolerations: [],
      expected: excluded("Taint dedicated=infra:NoSchedule is not tolerated.", true),
    },
    {
      name: "NoExecute not tolerated evicts too",
      taints: [{ key: "dedicated", effect: "NoExecute" }],
      tolerations: [],
      expected: excluded("Taint dedicated:NoExecute is not tolerated."),
    },
    {
      name: "PreferNoSchedule never excludes",
      taints: [{ key: "soft", effect: "PreferNoSchedule" }],
      tolerations: [],
      expected: run,
    },
    {
      name: "Equal with the same value",
      taints: [infra],
      tolerations: [{ key: "dedicated", operator: "Equal", value: "infra", effect: "NoSchedule" }],
      expected: run,
    },
    {
      name: "operator absent means Equal",
      taints: [infra],
      tolerations: [{ key: "dedicated", value: "infra" }],
      expected: run,
    },
    {
      name: "Equal with another value",
      taints: [infra],
      tolerations: [{ key: "dedicated", operator: "Equal", value: "db" }],
      expected: excluded("Taint dedicated=infra:NoSchedule is not tolerated.", true),
    },
    {
      name: "Exists on the key, any value",
      taints: [infra],
      tolerations: [{ key: "dedicated", operator: "Exists" }],
      expected: run,
    },
    {
      name: "Exists on another key",
      taints: [infra],
      tolerations: [{ key: "other", operator: "Exists" }],
      expected: excluded("Taint dedicated=infra:NoSchedule is not tolerated.", true),
    },
    {
      name: "empty key with Exists tolerates everything",
      taints: [infra, { key: "x", effect: "NoExecute" }],
      tolerations: [{ operator: "Exists" }],
      expected: run,
    },
    {
      name: "an effect that differs does not tolerate",
      taints: [infra],
      tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoExecute" }],
      expected: excluded("Taint dedicated=infra:NoSchedule is not tolerated.", true),
    },
    {
      name: "an empty effect matches every effect",
      taints: [infra],
      tolerations: [{ key: "dedicated", operator: "Exists", effect: "" }],
      expected: run,
    },
    {
      name: "one tolerated, one not: the untolerated one is named",
      taints: [infra, { key: "gpu", value: "true", effect: "NoSchedule" }],
      tolerations: [{ key: "dedicated", operator: "Exists" }],
      expected: excluded("Taint gpu=true:NoSchedule is not tolerated.", true),
    },
    // The controller's default tolerations.
    {
      name: "not-ready NoExecute is tolerated",
      taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoExecute" }],
      tolerations: [],
      expected: run,
    },
    {
      name: "unreachable NoExecute is tolerated",
      taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }],
      tolerations: [],
      expected: run,
    },
    {
      name: "disk-pressure is tolerated",
      taints: [{ key: "node.kubernetes.io/disk-pressure", effect: "NoSchedule" }],
      tolerations: [],
      expected: run,
    },
    {
      name: "memory-pressure is tolerated",
      taints: [{ key: "node.kubernetes.io/memory-pressure", effect: "NoSchedule" }],
      tolerations: [],
      expected: run,
    },
    {
      name: "pid-pressure is tolerated",
      taints: [{ key: "node.kubernetes.io/pid-pressure", effect: "NoSchedule" }],
      tolerations: [],
      expected: run,
    },
    {
      name: "unschedulable is tolerated",
      taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }],
      tolerations: [],
      expected: run,
    },
    {
      name: "network-unavailable is tolerated with hostNetwork",
      taints: [{ key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" }],
      tolerations: [],
      hostNetwork: true,
      expected: run,
    },
    {
      name: "network-unavailable is not tolerated without hostNetwork",
      taints: [{ key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" }],
      tolerations: [],
      hostNetwork: false,
      expected: excluded("Taint node.kubernetes.io/network-unavailable:NoSchedule is not tolerated.", true),
    },
    {
      name: "not-ready NoSchedule is not among the defaults",
      taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }],
      tolerations: [],
      expected: excluded("Taint node.kubernetes.io/not-ready:NoSchedule is not tolerated.", true),
    },
  ])("$name", ({ taints, tolerations, hostNetwork, expected }) => {
    expect(placement({ taints }, { tolerations, hostNetwork: hostNetwork ?? true })).toEqual(expected);
  });

  it("runs on a cordoned node", () => {
    expect(
      placement(
        { unschedulable: true, taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }] },
        {},
      ),
    ).toEqual(run);
  });

  it("judges each DaemonSet by its own tolerations across many nodes, and a changed DaemonSet by its new ones", () => {
    const tainted = makeNode({ taints: [infra] });
    const plain = makeNode({ taints: [] });
    const before = makeDaemonSet({ tolerations: [] });
    const after = makeDaemonSet({ tolerations: [{ key: "dedicated", operator: "Exists" }] });
    for (let i = 0; i < 3; i++) {
      expect(nodeShouldRunDaemonSet({ node: tainted, daemonSet: before })).toEqual(
        excluded("Taint dedicated=infra:NoSchedule is not tolerated.", true),
      );
      expect(nodeShouldRunDaemonSet({ node: plain, daemonSet: before })).toEqual(run);
      expect(nodeShouldRunDaemonSet({ node: tainted, daemonSet: after })).toEqual(run);
    }
  });

  it("follows ToleratesTaint for an empty key with Equal: the values are compared", () => {
    expect(tolerationToleratesTaint({ operator: "Equal", value: "infra" }, infra)).toBe(true);
    expect(tolerationToleratesTaint({ operator: "Equal", value: "db" }, infra)).toBe(false);
  });
});
