// Rotating the ingest key of a cluster where Tapfleet installed the sensor, while the cluster
// cannot be asked: the rotation stands and answers its new key (shown only once), and its answer
// and audit event say the sensor's Secret was not written and why; the next rotation writes it.

import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentStatsReport, postStatsReport } from "../../../e2e/support/agent-reports.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";

const CLUSTER = "rot";
const SECRET = { namespace: "tapfleet-sensor", name: "tapfleet-sensor-hmac" };

let t: TestServer;
let sim: RunningSimCluster;
let admin: string;
let firstKey: string;
let sequence = 0;

type Json = Record<string, unknown>;

const rest = (method: string, route: string, body?: unknown) =>
  callRest<Json>(t.url, { method, path: route, token: admin, body });

beforeAll(async () => {
  [t, sim] = await Promise.all([startTestServer(), startSimCluster({ nodes: 2, kubelet: "fake" })]);
  admin = (await t.userWithToken("admin")).token;
  const created = await rest("POST", "/clusters", { id: CLUSTER });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  firstKey = String(created.json.secret);
  const saved = await rest("PUT", `/clusters/${CLUSTER}/connection`, {
    kubeconfig: sim.kubeconfig(),
    context: sim.name,
  });
  expect(saved.status, JSON.stringify(saved.json)).toBe(200);
  const installed = await rest("POST", `/clusters/${CLUSTER}/sensor`, {
    settings: { collectorHost: "collector.example.com", collectorPort: 8443 },
    image: "tapfleet/agent:1.0.0",
    captureMode: "capabilities",
  });
  expect(installed.status, JSON.stringify(installed.json)).toBe(200);
  expect(secretKey()).toBe(firstKey);
});
afterAll(async () => {
  await Promise.all([t?.stop(), sim?.stop()]);
});

/** The key the sensor's Secret holds in the simulator. */
function secretKey(): string {
  const secret = sim.store.get("secrets", SECRET.namespace, SECRET.name) as unknown as {
    data: Record<string, string>;
  };
  return Buffer.from(secret.data["hmac-key"]!, "base64").toString();
}

/** The status of a report signed with `secret` as the cluster's agent sends it. */
async function reportStatus(secret: string): Promise<number> {
  sequence += 1;
  const report = agentStatsReport({ clusterId: CLUSTER, nodeName: "node-1", sequence });
  const response = await postStatsReport(t.url, { keyId: CLUSTER, secret }, report);
  return response.status;
}

/** Rotates the key; the answer and the rotation's audit event. */
async function rotateKey(): Promise<{ answer: Json; change: Json }> {
  const rotated = await rest("POST", `/clusters/${CLUSTER}/rotate-key`, { graceHours: 1 });
  expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
  expect(String(rotated.json.secret)).toMatch(/\S{16,}/);
  const audit = await rest("GET", "/audit?limit=1&action=clusters.rotateKey");
  const [event] = audit.json.items as Array<{ outcome: string; changes: Json[] }>;
  expect(event!.outcome).toBe("success");
  expect(JSON.stringify(event)).not.toContain(String(rotated.json.secret));
  return { answer: rotated.json, change: event!.changes[0]! };
}

describe("rotating the key of an installed sensor", () => {
  it("while the connection is disabled: answers the new key and says the Secret was not written and why", async () => {
    const disabled = await rest("PATCH", `/clusters/${CLUSTER}/connection`, { enabled: false });
    expect(disabled.status, JSON.stringify(disabled.json)).toBe(200);

    const { answer, change } = await rotateKey();
    const why = `The cluster "${CLUSTER}"'s Kubernetes connection is disabled: enable it first.`;
    expect(answer.sensorKeySecret).toEqual({ written: null, skipped: why });
    expect(change).toEqual({ field: "sensorKey", from: null, to: `not written: ${why}` });
    const newKey = String(answer.secret);
    expect(newKey).not.toBe(firstKey);
    expect(secretKey()).toBe(firstKey);

    // The sensors keep reporting with the old key for the grace period; the new key works too.
    expect(await reportStatus(firstKey)).toBe(200);
    expect(await reportStatus(newKey)).toBe(200);
    expect(await reportStatus(`${newKey}x`)).toBe(401);
  });

  it("once the connection is enabled again, the next rotation writes the newest key into the Secret", async () => {
    const enabled = await rest("PATCH", `/clusters/${CLUSTER}/connection`, { enabled: true });
    expect(enabled.status, JSON.stringify(enabled.json)).toBe(200);

    const { answer, change } = await rotateKey();
    const written = `Secret ${SECRET.namespace}/${SECRET.name}`;
    expect(answer.sensorKeySecret).toEqual({ written, skipped: null });
    expect(change).toEqual({ field: "sensorKey", from: null, to: written });
    expect(secretKey()).toBe(String(answer.secret));
    expect(await reportStatus(String(answer.secret))).toBe(200);
  });

  it("while the cluster is unreachable: answers the new key and says why the Secret was not written", async () => {
    await sim.stop();
    const { answer, change } = await rotateKey();
    const outcome = answer.sensorKeySecret as { written: string | null; skipped: string | null };
    expect(outcome.written).toBeNull();
    expect(outcome.skipped).toMatch(/^The cluster refused /);
    expect(outcome.skipped).toContain("ECONNREFUSED");
    // The audit keeps the start of a long value.
    expect(change).toMatchObject({ field: "sensorKey", from: null });
    expect(String(change.to)).toMatch(/^not written: The cluster refused reading the sensor's namespace/);
    expect(await reportStatus(String(answer.secret))).toBe(200);
  });
});
