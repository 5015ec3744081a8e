// Several simulated clusters side by side in one process, one kubeconfig.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimClusters } from "../src/index.ts";
import { requireKubectl } from "./helpers.ts";
import { execFile } from "node:child_process";

let fleet: Awaited<ReturnType<typeof startSimClusters>>;
let dir: string;

beforeAll(async () => {
  fleet = await startSimClusters([{ nodes: 1 }, { nodes: 2, name: "edge" }]);
  dir = await mkdtemp(join(tmpdir(), "kube-sim-multi-"));
});
afterAll(async () => {
  await fleet.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("several clusters", () => {
  it("are independent and reachable through one kubeconfig with a context each", async () => {
    const [first, second] = fleet.clusters;
    expect(first!.name).toBe("kube-sim-1");
    expect(second!.name).toBe("edge");
    expect(first!.url).not.toBe(second!.url);

    const kc = new k8s.KubeConfig();
    kc.loadFromString(fleet.kubeconfig());
    expect(kc.getContexts().map((c) => c.name)).toEqual(["kube-sim-1", "edge"]);
    expect(kc.getCurrentContext()).toBe("kube-sim-1");
    kc.setCurrentContext("edge");
    const nodes = await kc.makeApiClient(k8s.CoreV1Api).listNode();
    expect(nodes.items.map((n) => n.metadata?.name)).toEqual(["node-1", "node-2"]);

    await requireKubectl();
    const kubeconfig = join(dir, "kubeconfig");
    await writeFile(kubeconfig, fleet.kubeconfig());
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        "kubectl",
        [
          "--kubeconfig",
          kubeconfig,
          "--cache-dir",
          join(dir, "cache"),
          "--context",
          "kube-sim-1",
          "get",
          "nodes",
          "-o",
          "name",
        ],
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
      ),
    );
    expect(out).toBe("node/node-1\n");
  });
});
