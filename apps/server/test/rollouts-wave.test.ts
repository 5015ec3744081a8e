// A wave's clusters are recorded together and patched together: no cluster's
// DaemonSet is written before every cluster of its wave has been read,
// rendered and recorded. One cluster answers its DaemonSet's reads 3 s late;
// the other's patch waits for it instead of going out on its own, so the
// patches of a wave arrive together (under load, a cluster patched early
// already recreates its pods while the others are still being prepared).
// Real server and PostgreSQL, two simulated clusters (fake kubelet).
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";

type Json = Record<string, unknown>;
const NAMESPACE = "tapfleet-sensor";
const NAME = "tapfleet-sensor";
const DAEMON_SET_PATH = `/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets/${NAME}`;
const SLOW_READ_MS = 3_000;

let t: TestServer;
let token: string;
const sims: Record<"quick" | "slow", RunningSimCluster> = {} as never;

const rest = (method: string, path: string, body?: unknown) =>
  callRest<Json>(t.url, { method, path, body, token });

beforeAll(async () => {
  const [server, quick, slow] = await Promise.all([
    startTestServer(),
    startSimCluster({ name: "quick", nodes: 2, kubelet: "fake" }),
    startSimCluster({ name: "slow", nodes: 2, kubelet: "fake" }),
  ]);
  t = server;
  sims.quick = quick;
  sims.slow = slow;
  token = (await t.userWithToken("admin")).token;
  for (const [id, sim] of Object.entries(sims)) {
    expect((await rest("POST", "/clusters", { id })).status).toBe(200);
    const saved = await rest("PUT", `/clusters/${id}/connection`, {
      kubeconfig: sim.kubeconfig(),
      context: sim.name,
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    const installed = await rest("POST", `/clusters/${id}/sensor`, {
      settings: { collectorHost: "collector.example.com" },
      image: "tapfleet/agent:1.0.0",
    });
    expect(installed.status, JSON.stringify(installed.json)).toBe(200);
    const daemonSet = structuredClone(sim.store.get("daemonsets.apps", NAMESPACE, NAME)!);
    (daemonSet.spec as Json).minReadySeconds = 1;
    sim.store.update("daemonsets.apps", daemonSet);
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([t?.stop(), ...Object.values(sims).map((sim) => sim.stop())]);
});

describe("a wave of clusters", () => {
  it("is patched together, once every cluster of the wave is read and recorded", async () => {
    const profile = await rest("POST", "/profiles", {
      name: "wave",
      settings: { collectorHost: "collector.example.com", debugLevel: 2 },
      message: "first",
    });
    expect(profile.status, JSON.stringify(profile.json)).toBe(200);
    sims.slow.faults.setLatency({ ms: SLOW_READ_MS, verbs: ["get"], resource: "daemonsets.apps" });
    const recordings = { quick: sims.quick.requestLog.record(), slow: sims.slow.requestLog.record() };
    const started = await rest("POST", "/rollouts", {
      profileId: profile.json.id,
      revision: 1,
      clusterIds: ["quick", "slow"],
      strategy: { waveSize: 2, maxUnavailable: "100%", gateSeconds: 60 },
    });
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    const done = await waitFor(() => rest("GET", `/rollouts/${String(started.json.id)}`), {
      what: "the rollout to end",
      timeoutMs: 40_000,
      until: (answer) => answer.json.status !== "running",
    });
    expect(done.json.status, JSON.stringify(done.json)).toBe("succeeded");
    recordings.quick.stop();
    recordings.slow.stop();

    const of = (id: "quick" | "slow", verb: "GET" | "PATCH") =>
      recordings[id].requests.filter((r) => r.path === DAEMON_SET_PATH && !r.watch && r.method === verb);
    // One write each; the slow cluster's first read of its DaemonSet is answered SLOW_READ_MS late.
    expect(of("quick", "PATCH")).toHaveLength(1);
    expect(of("slow", "PATCH")).toHaveLength(1);
    const slowRead = of("slow", "GET")[0]!;
    const quickWrite = of("quick", "PATCH")[0]!;
    // Before, the quick cluster was patched as soon as its own row was recorded, about 3 s before
    // the slow one's read was even answered.
    expect(quickWrite.at - slowRead.at).toBeGreaterThanOrEqual(SLOW_READ_MS - 50);
    expect(Math.abs(quickWrite.at - of("slow", "PATCH")[0]!.at)).toBeLessThan(SLOW_READ_MS);
  }, 90_000);
});
