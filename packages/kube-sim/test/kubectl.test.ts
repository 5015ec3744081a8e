// The real kubectl against a simulated cluster, one test per line of the
// feature's "Done when". kubectl missing is a failure, never a skip.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimCluster, type KubeObject, type RunningSimCluster } from "../src/index.ts";
import { untilStore, withKubectl, type KubectlResult } from "./helpers.ts";

let cluster: RunningSimCluster;
let kubectl: (args: string[], stdin?: string) => Promise<KubectlResult>;
let cleanup: () => Promise<void>;

const manifest = (foo: string): string => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: sensor
  namespace: default
spec:
  selector:
    matchLabels: {app: sensor}
  template:
    metadata:
      labels: {app: sensor}
    spec:
      containers:
      - name: sensor
        image: tapfleet/sensor:1.0
        env:
        - {name: A, value: "1"}
        - {name: FOO, value: ${foo}}
        - {name: B, value: "2"}
`;

/** Succeeds or fails the test with kubectl's own output. */
async function ok(args: string[], stdin?: string): Promise<string> {
  const result = await kubectl(args, stdin);
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  expect(result.stderr).not.toMatch(/warning|error/i);
  return result.stdout;
}

function daemonSet(): KubeObject | undefined {
  return cluster.store.get("daemonsets.apps", "default", "sensor");
}

/** The DaemonSet's rollout is complete, by kubectl's own criteria. */
function rolledOut(): boolean {
  const ds = daemonSet();
  const status = (ds?.status ?? {}) as Record<string, number>;
  return (
    ds !== undefined &&
    (status.observedGeneration ?? 0) >= (ds.metadata.generation ?? 0) &&
    status.desiredNumberScheduled === 3 &&
    status.updatedNumberScheduled === 3 &&
    status.numberAvailable === 3
  );
}

async function envOf(): Promise<Array<{ name: string; value: string }>> {
  const ds = JSON.parse(await ok(["get", "ds", "sensor", "-o", "json"])) as {
    spec: {
      template: {
        spec: { containers: Array<{ name: string; env: Array<{ name: string; value: string }> }> };
      };
    };
  };
  const containers = ds.spec.template.spec.containers;
  expect(containers.map((c) => c.name)).toEqual(["sensor"]);
  return containers[0]!.env;
}

beforeAll(async () => {
  // A small ready delay so that rollouts take long enough to show progress.
  cluster = await startSimCluster({ nodes: 3, readyDelayMs: 500 });
  ({ kubectl, cleanup } = await withKubectl(cluster));
});

afterAll(async () => {
  await cluster?.stop();
  await cleanup?.();
});

describe("kubectl against kube-sim", () => {
  it("get nodes", async () => {
    const out = await ok(["get", "nodes"]);
    const lines = out.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ["node-1", "Ready", "<none>"],
      ["node-2", "Ready", "<none>"],
      ["node-3", "Ready", "<none>"],
    ]);
    const wide = await ok(["get", "nodes", "-o", "wide"]);
    expect(wide.split("\n")[0]).toMatch(
      /INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME/,
    );
  });

  it("apply -f creates a DaemonSet, and get pods -o wide shows its pods", async () => {
    expect(await ok(["apply", "-f", "-"], manifest("old"))).toBe("daemonset.apps/sensor created\n");
    await untilStore(cluster, rolledOut);
    const out = await ok(["get", "pods", "-o", "wide"]);
    const [header, ...rows] = out.trim().split("\n");
    expect(header).toMatch(
      /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/,
    );
    expect(rows).toHaveLength(3);
    for (const row of rows)
      expect(row).toMatch(/^sensor-\w{5}\s+1\/1\s+Running\s+0\s+\S+\s+\S+\s+node-\d\s+<none>\s+<none>$/);
    expect(rows.map((r) => r.split(/\s+/)[6]).sort()).toEqual(["node-1", "node-2", "node-3"]);
  });

  it("apply -f with a changed env var keeps the other env vars; rollout status shows progress then success", async () => {
    expect(await ok(["apply", "-f", "-"], manifest("new"))).toBe("daemonset.apps/sensor configured\n");
    expect(await envOf()).toEqual([
      { name: "A", value: "1" },
      { name: "FOO", value: "new" },
      { name: "B", value: "2" },
    ]);
    const out = await ok(["rollout", "status", "ds/sensor", "--timeout=60s"]);
    expect(out).toMatch(
      /Waiting for daemon set "sensor" rollout to finish: (\d+ out of 3 new pods have been updated|\d+ of 3 updated pods are available)/,
    );
    expect(out.trim().split("\n").at(-1)).toBe('daemon set "sensor" successfully rolled out');
  });

  it("set env ds/x FOO=bar", async () => {
    expect(await ok(["set", "env", "ds/sensor", "FOO=bar"])).toBe("daemonset.apps/sensor env updated\n");
    expect(await envOf()).toEqual([
      { name: "A", value: "1" },
      { name: "FOO", value: "bar" },
      { name: "B", value: "2" },
    ]);
    await ok(["rollout", "status", "ds/sensor", "--timeout=60s"]);
  });

  it("rollout undo ds/x goes back to the previous template", async () => {
    expect(await ok(["rollout", "undo", "ds/sensor"])).toBe("daemonset.apps/sensor rolled back\n");
    expect((await envOf()).find((e) => e.name === "FOO")?.value).toBe("new");
    await ok(["rollout", "status", "ds/sensor", "--timeout=60s"]);
  });

  it("apply --server-side", async () => {
    expect(await ok(["apply", "--server-side", "-f", "-"], manifest("ssa"))).toBe(
      "daemonset.apps/sensor serverside-applied\n",
    );
    expect((await envOf()).find((e) => e.name === "FOO")?.value).toBe("ssa");
    // Applying again without B removes what this manager applied before.
    await ok(["apply", "--server-side", "-f", "-"], manifest("ssa").replace(/^ {8}- \{name: B.*\n/m, ""));
    expect(await envOf()).toEqual([
      { name: "A", value: "1" },
      { name: "FOO", value: "ssa" },
    ]);
  });

  it("logs", async () => {
    await untilStore(cluster, rolledOut);
    const pod = cluster.store.list("pods", { namespace: "default" }).items[0]!;
    const out = await ok(["logs", pod.metadata.name!]);
    expect(out).toContain("kube-sim: container sensor started (image tapfleet/sensor:1.0)");
    expect(await ok(["logs", "ds/sensor", "--tail=1"])).toMatch(/^kube-sim: container sensor started/);
  });

  it("create configmap / secret / clusterrolebinding (kubectl sends these as protobuf)", async () => {
    expect(await ok(["create", "configmap", "settings", "--from-literal=a=b"])).toBe(
      "configmap/settings created\n",
    );
    expect(cluster.store.get("configmaps", "default", "settings")?.data).toEqual({ a: "b" });
    expect(await ok(["create", "secret", "generic", "hmac", "--from-literal=key=s3cret"])).toBe(
      "secret/hmac created\n",
    );
    expect(cluster.store.get("secrets", "default", "hmac")?.data).toEqual({
      key: Buffer.from("s3cret").toString("base64"),
    });
    await ok(["create", "clusterrolebinding", "readers", "--clusterrole=view", "--user=alice"]);
    expect(
      cluster.store.get("clusterrolebindings.rbac.authorization.k8s.io", undefined, "readers"),
    ).toMatchObject({
      roleRef: { kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "User", name: "alice" }],
    });
  });

  it("delete ds/x removes it and its pods", async () => {
    expect(await ok(["delete", "ds/sensor"])).toBe('daemonset.apps "sensor" deleted\n');
    await untilStore(cluster, () => cluster.store.list("pods", { namespace: "default" }).items.length === 0);
    const result = await kubectl(["get", "pods"]);
    expect(result.stderr.trim()).toBe("No resources found in default namespace.");
  });
});
