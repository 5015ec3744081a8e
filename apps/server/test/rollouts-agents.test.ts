// A rollout on the demo's real agents (kube-sim's process kubelet, the agent
// reporting over HTTPS to this server), as root: a revision whose agent cannot
// start (a TLS CA file the nodes do not have) is stopped by the health gate as
// soon as the first new pod's agent exits, and rolled back, with a reason that
// names the node, the crash, its exit code and the agent's own last line. The
// gate's deadline is long, so a reason that only says the pods were not healthy
// in time would mean the crash was missed.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";

const CLUSTER = "demo-east";
const CAPTURING_NODES = ["node-1", "node-3"];
const GATE_SECONDS = 90;

let server: TestServer;
let dataDir: string;
let admin: string;

type Json = Record<string, unknown>;

async function rest(method: string, route: string, body?: unknown) {
  const answer = await callRest<Json>(server.url, { method, path: route, body, token: admin });
  return { status: answer.status, body: answer.json };
}

interface SensorItem {
  clusterId: string;
  nodeName: string;
  configHash: string;
  lastSummary: { packets: number } | null;
}

const capturing = async (): Promise<SensorItem[]> =>
  ((await rest("GET", "/sensors")).body.items as SensorItem[]).filter(
    (item) => item.clusterId === CLUSTER && CAPTURING_NODES.includes(item.nodeName),
  );

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "tapfleet-rollout-agents-"));
  server = await startTestServer({ TAPFLEET_DATA_DIR: dataDir, TAPFLEET_DEMO: "available" });
  admin = (await server.userWithToken("admin")).token;
  const started = await rest("POST", "/demo/start", {});
  expect(started.status, JSON.stringify(started.body)).toBe(200);
}, 90_000);

afterAll(async () => {
  await rest("POST", "/demo/stop", {}).catch(() => undefined);
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe("rollouts on real agents", () => {
  it("a revision whose agent exits at start is rolled back at the first crash, naming the node, the exit code and the agent's last line", async () => {
    const healthy = await waitFor(capturing, {
      what: "demo-east's two capturing agents reporting packets",
      timeoutMs: 60_000,
      intervalMs: 500,
      until: (items) =>
        items.length === CAPTURING_NODES.length &&
        items.every((item) => (item.lastSummary?.packets ?? 0) > 0),
    });

    // A profile made of what the cluster runs, then a revision with a CA file no node has.
    const sensor = (await rest("GET", `/clusters/${CLUSTER}/sensor`)).body as {
      namespace: string;
      name: string;
    };
    const preview = await rest(
      "GET",
      `/clusters/${CLUSTER}/sensor/adopt-preview?namespace=${sensor.namespace}&name=${sensor.name}`,
    );
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    const settings = preview.body.settings as Json;
    const created = await rest("POST", "/profiles", { name: "real-agents", settings, message: "as it runs" });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const profileId = String(created.body.id);
    const saved = await rest("POST", `/profiles/${profileId}/revisions`, {
      expectedLatest: 1,
      settings: { ...settings, tlsCaFile: "/nonexistent/tapfleet-ca.pem" },
      message: "a CA file that does not exist",
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);

    const startedAt = Date.now();
    const rollout = await rest("POST", "/rollouts", {
      profileId,
      revision: saved.body.number,
      clusterIds: [CLUSTER],
      strategy: { gateSeconds: GATE_SECONDS },
    });
    expect(rollout.status, JSON.stringify(rollout.body)).toBe(200);
    const done = await waitFor(() => rest("GET", `/rollouts/${String(rollout.body.id)}`), {
      what: "the rollout to be rolled back",
      timeoutMs: 120_000,
      intervalMs: 500,
      until: (answer) =>
        ["rolled-back", "failed", "succeeded", "aborted"].includes(String(answer.body.status)),
    });
    const cluster = (
      done.body.clusters as Array<{ clusterId: string; status: string; reason: string | null }>
    )[0]!;
    expect(cluster.status, JSON.stringify(done.body)).toBe("rolled-back");
    expect(cluster.reason).not.toMatch(/not healthy within/);
    expect(cluster.reason).toMatch(
      /^node-[13]: (CrashLoopBackOff|Error), exit code 2(, restarted \d+ times?)?, last message: .*tapfleet-agent: cannot read the TLS CA file \/nonexistent\/tapfleet-ca\.pem \(VSENSOR_TLS_CA_FILE\): ENOENT/,
    );
    // Judged at the crash, well before the gate's deadline.
    expect(Date.now() - startedAt).toBeLessThan(GATE_SECONDS * 1000);

    // The agents are back on the configuration from before, reporting.
    await waitFor(capturing, {
      what: "demo-east's agents back on the configuration from before",
      timeoutMs: 60_000,
      intervalMs: 500,
      until: (items) =>
        items.filter(
          (item) => item.configHash === healthy.find((h) => h.nodeName === item.nodeName)?.configHash,
        ).length === CAPTURING_NODES.length,
    });
  }, 240_000);
});
