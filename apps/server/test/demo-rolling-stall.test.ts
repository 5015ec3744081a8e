// A change that breaks capture without crashing the agent (a wrong collector
// port) is stopped by Kubernetes' own rolling update at maxUnavailable nodes,
// even with Tapfleet out of the loop: on the demo's demo-east (two capturing
// nodes, maxUnavailable 1, minReadySeconds 0) with its real agents, the change
// is made with kubectl, and the first new pod never turns Ready (its reports are
// never accepted) while the other node keeps its old, Ready pod. The demo runs
// with the pcap replay, as in demo-replay.test.ts.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createSecretBox, openClusterConnection } from "@tapfleet/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { createDemoService, type DemoService } from "../src/demo/demo.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { forwardTo } from "./forward.ts";
import { kubectl } from "./kubectl.ts";

const SECRET_KEY = randomBytes(32).toString("base64");

let server: TestServer;
let dataDir: string;
let demo: DemoService;

const routeToServer = forwardTo(() => server.url);

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "tapfleet-demo-stall-"));
  server = await startTestServer({ TAPFLEET_DATA_DIR: dataDir, TAPFLEET_SECRET_KEY: SECRET_KEY });
  demo = createDemoService({
    db: server.db,
    bus: server.bus,
    secrets: createSecretBox(Buffer.from(SECRET_KEY, "base64")),
    invalidateKeys: () => Promise.resolve(),
    route: routeToServer,
    dataDir,
    searchPath: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    log: { info: () => undefined, warn: () => undefined },
    traffic: "pcap-replay",
  });
}, 60_000);

afterAll(async () => {
  await demo?.stop();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface PodRow {
  name: string;
  node: string;
  hash: string;
  ready: boolean;
  deleting: boolean;
}

describe("a change that breaks capture, made outside Tapfleet", () => {
  it("replaces one Ready pod (maxUnavailable 1) and stops there while the new one never turns Ready", async () => {
    await demo.start();
    const connection = await openClusterConnection({
      db: server.db,
      secrets: createSecretBox(Buffer.from(SECRET_KEY, "base64")),
      clusterId: "demo-east",
    });
    const kubeconfig = path.join(dataDir, "demo-east.kubeconfig");
    writeFileSync(kubeconfig, connection.kubeconfig);
    const ns = ["-n", "tapfleet-sensor"];
    const pods = async (): Promise<PodRow[]> => {
      const list = JSON.parse(await kubectl(kubeconfig, ...ns, "get", "pods", "-o", "json")) as {
        items: Array<{
          metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
          spec: { nodeName?: string };
          status?: { conditions?: Array<{ type: string; status: string }> };
        }>;
      };
      return list.items.map((pod) => ({
        name: pod.metadata.name,
        node: pod.spec.nodeName ?? "",
        hash: pod.metadata.labels?.["controller-revision-hash"] ?? "",
        ready: (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
        deleting: pod.metadata.deletionTimestamp !== undefined,
      }));
    };

    // Both capturing nodes (node-2 is tainted out) Ready: their agents' reports were accepted.
    const before = await waitFor(pods, {
      what: "demo-east's two sensor pods Ready",
      timeoutMs: 60_000,
      intervalMs: 500,
      until: (rows) => rows.length === 2 && rows.every((row) => row.ready && !row.deleting),
    });
    expect(before.map((row) => row.node).sort()).toEqual(["node-1", "node-3"]);

    // Nothing listens on port 1: every report of the new agents fails.
    await kubectl(kubeconfig, ...ns, "set", "env", "ds/tapfleet-sensor", "-c", "capture", "VSENSOR_PORT=1");

    // The first new pod runs and fails its readiness probe three times in a row (three of the
    // demo's 5 s report intervals): long enough for the controller to have gone on if it would.
    const replaced = await waitFor(
      async () => {
        const rows = await pods();
        const fresh = rows.find((row) => !before.some((old) => old.name === row.name) && !row.deleting);
        if (!fresh) return undefined;
        const events = JSON.parse(
          await kubectl(
            kubeconfig,
            ...ns,
            "get",
            "events",
            "--field-selector",
            `involvedObject.name=${fresh.name},reason=Unhealthy`,
            "-o",
            "json",
          ),
        ) as { items: Array<{ count?: number }> };
        return { rows, fresh, failures: events.items.reduce((sum, e) => sum + (e.count ?? 1), 0) };
      },
      {
        what: "a new pod that has failed its readiness probe three times",
        timeoutMs: 90_000,
        intervalMs: 1_000,
        until: (seen) => seen !== undefined && seen.failures >= 3,
      },
    );
    const { fresh } = replaced!;
    const now = await pods();
    const other = before.find((row) => row.node !== fresh.node)!;
    // The new pod is not Ready; the other node still runs its old pod, Ready and not being deleted.
    expect(now.find((row) => row.name === fresh.name)).toMatchObject({ ready: false, deleting: false });
    expect(now.find((row) => row.node === other.node)).toEqual(other);
    expect(now).toHaveLength(2);

    const status = JSON.parse(
      await kubectl(kubeconfig, ...ns, "get", "ds", "tapfleet-sensor", "-o", "jsonpath={.status}"),
    ) as { updatedNumberScheduled?: number; numberAvailable?: number; numberUnavailable?: number };
    expect(status).toMatchObject({ updatedNumberScheduled: 1, numberAvailable: 1, numberUnavailable: 1 });
  }, 200_000);
});
