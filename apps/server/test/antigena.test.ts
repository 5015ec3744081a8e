// Antigena response actions end to end against a real server and PostgreSQL:
// an operator requests a pcap snapshot, the agent's signed poll picks it up,
// its signed result closes it, and the pcap downloads. Every refusal leaves
// the action as it was.
import { randomUUID } from "node:crypto";
import type { ErrorResponse } from "@tapfleet/api";
import { expireSensorActions } from "@tapfleet/core";
import { createLiveBus, type LiveBus } from "@tapfleet/db";
import {
  actionPollPath,
  CONTENT_TYPES,
  encodeActionResultUpload,
  encodePcap,
  INGEST_PATHS,
  LINKTYPE,
  MAX_ACTION_RESULT_BODY_BYTES,
  PROTOCOL_VERSION,
  type ActionResultMetadata,
  type SensorAction,
  type SignRequestOptions,
  type StatsReport,
} from "@tapfleet/sensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./harness.ts";
import { readSse } from "./sse.ts";
import { agentStatsReport, postStatsReport, signAgentRequest } from "../../../e2e/support/agent-reports.ts";

let t: TestServer;
/** The live bus, as another replica would hold it, for the core functions called directly. */
let bus: LiveBus;
let operator: string;
let viewer: string;
let cluster: { clusterId: string; keyId: string; secret: string };
let sensorId: string;
let otherSensorId: string;

const startedAt = Date.now() - 60_000;
let sequence = 0;
const identity = (nodeName = "node-a", clusterId = "prod-eu-1") => ({
  clusterId,
  nodeName,
  podName: `agent-${nodeName}`,
  agentVersion: "0.1.0",
  configHash: "0123456789abcdef",
  startedAt,
  sequence: sequence++,
});

function sign(
  method: "GET" | "POST",
  path: string,
  body: Uint8Array,
  overrides: Partial<SignRequestOptions> = {},
) {
  return signAgentRequest(cluster, method, path, body, overrides);
}

async function sendReport(nodeName: string, extra: Partial<StatsReport> = {}) {
  const response = await postStatsReport(t.url, cluster, agentStatsReport(identity(nodeName), extra));
  return response.status;
}

async function poll(nodeName: string, headers?: Record<string, string>, path = actionPollPath(nodeName)) {
  const response = await fetch(`${t.url}${path}`, {
    headers: headers ?? sign("GET", path, new Uint8Array(0)),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      ok: boolean;
      reason?: string;
      actions?: SensorAction[];
      serverTime: number;
    },
  };
}

async function upload(body: Uint8Array, headers?: Record<string, string>) {
  const response = await fetch(`${t.url}${INGEST_PATHS.actionResults}`, {
    method: "POST",
    headers: {
      ...(headers ?? sign("POST", INGEST_PATHS.actionResults, body)),
      "content-type": CONTENT_TYPES.actionResult,
    },
    body: new Uint8Array(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { ok: boolean; reason?: string; message?: string },
  };
}

/** A classic little-endian pcap of `count` 60-byte frames, frame i ending in byte i. */
function pcapFile(count: number): Uint8Array {
  const records = Array.from({ length: count }, (_, i) => {
    const data = new Uint8Array(60);
    data[59] = i;
    return { seconds: Math.floor(Date.now() / 1000), fraction: 0, data };
  });
  return encodePcap({ linkType: LINKTYPE.ETHERNET, snapLength: 65535, records });
}

function result(actionId: string, pcap: Uint8Array, overrides: Partial<ActionResultMetadata> = {}) {
  const metadata: ActionResultMetadata = {
    protocolVersion: PROTOCOL_VERSION,
    agent: identity(),
    actionId,
    status: "succeeded",
    startedAt: Date.now() - 5000,
    finishedAt: Date.now(),
    interfaces: ["eth0"],
    endedBy: "duration",
    packetCount: (pcap.byteLength - 24) / 76,
    pcapBytes: pcap.byteLength,
    ...overrides,
  };
  return encodeActionResultUpload(metadata, pcap);
}

async function requestSnapshot(input: Record<string, unknown>, token = operator, id = sensorId) {
  const response = await fetch(`${t.url}/api/v1/sensors/${id}/snapshots`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(input),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function listActions(token: string | null = viewer, id = sensorId) {
  const response = await fetch(`${t.url}/api/v1/sensors/${id}/actions`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      items: Array<{
        id: string;
        status: string;
        reason: string | null;
        result: Record<string, unknown> | null;
      }>;
      message?: string;
    },
  };
}

const actionRow = (id: string) => t.db.sensorAction.findUniqueOrThrow({ where: { id } });

beforeAll(async () => {
  t = await startTestServer();
  bus = await createLiveBus({ url: t.database.url });
  operator = (await t.userWithToken("operator", "snap-operator")).token;
  viewer = (await t.userWithToken("viewer", "snap-viewer")).token;
  const created = await t.trpc("clusters.create", { input: { id: "prod-eu-1" }, auth: { bearer: operator } });
  cluster = created.body.result?.data as typeof cluster;
  expect(await sendReport("node-a")).toBe(200);
  expect(await sendReport("node-b")).toBe(200);
  sensorId = (await t.db.sensor.findFirstOrThrow({ where: { nodeName: "node-a" } })).id;
  otherSensorId = (await t.db.sensor.findFirstOrThrow({ where: { nodeName: "node-b" } })).id;
});
afterAll(async () => {
  await bus?.close();
  await t?.stop();
});

describe("antigena: pcap snapshots", () => {
  it("goes request → poll → result → download, and the audit log has each step", async () => {
    const requested = await requestSnapshot({ durationSeconds: 5, filter: "udp port 53", interface: "eth0" });
    expect(requested.status, JSON.stringify(requested.body)).toBe(200);
    expect(requested.body).toMatchObject({
      sensorId,
      type: "pcap_snapshot",
      status: "pending",
      params: {
        durationSeconds: 5,
        filter: "udp port 53",
        interface: "eth0",
        maxBytes: 4 * 1024 * 1024,
        maxPackets: 100_000,
      },
      requestedBy: { type: "token", name: "snap-operator-token" },
      result: null,
    });
    const id = requested.body.id as string;

    const seenBefore = (await t.db.sensor.findUniqueOrThrow({ where: { id: sensorId } })).lastSeenAt;
    const first = await poll("node-a");
    expect(first.status).toBe(200);
    expect(first.body.actions).toEqual([
      {
        id,
        type: "pcap_snapshot",
        requestedAt: Date.parse(requested.body.requestedAt as string),
        deadlineAt: expect.any(Number),
        params: {
          durationSeconds: 5,
          filter: "udp port 53",
          interface: "eth0",
          maxBytes: 4 * 1024 * 1024,
          maxPackets: 100_000,
        },
      },
    ]);
    // The deadline leaves the capture's duration plus time to upload.
    const deadline = first.body.actions![0]!.deadlineAt;
    expect(deadline - first.body.serverTime).toBe(5000 + 120_000);
    // A poll is a sign of life.
    const seenAfter = (await t.db.sensor.findUniqueOrThrow({ where: { id: sensorId } })).lastSeenAt;
    expect(seenAfter.getTime()).toBeGreaterThan(seenBefore.getTime());
    expect((await actionRow(id)).status).toBe("delivered");

    // Handed out again until closed (an answer lost on the way costs nothing), with the same deadline.
    const again = await poll("node-a");
    expect(again.body.actions?.map((a) => [a.id, a.deadlineAt])).toEqual([[id, deadline]]);
    // Another node's poll does not see it.
    expect((await poll("node-b")).body.actions).toEqual([]);

    const pcap = pcapFile(3);
    const accepted = await upload(result(id, pcap));
    expect(accepted, JSON.stringify(accepted.body)).toMatchObject({ status: 200, body: { ok: true } });
    expect((await poll("node-a")).body.actions).toEqual([]);

    const listed = await listActions(viewer);
    expect(listed.status).toBe(200);
    expect(listed.body.items[0]).toMatchObject({
      id,
      status: "succeeded",
      result: {
        packetCount: 3,
        pcapBytes: pcap.byteLength,
        interfaces: ["eth0"],
        endedBy: "duration",
        pcapAvailable: true,
        pcapUrl: `/api/v1/sensors/${sensorId}/actions/${id}/pcap`,
      },
    });

    const download = await fetch(`${t.url}/api/v1/sensors/${sensorId}/actions/${id}/pcap`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/vnd.tcpdump.pcap");
    expect(download.headers.get("x-tapfleet-packets")).toBe("3");
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(pcap))).toBe(true);
    expect((await fetch(`${t.url}/api/v1/sensors/${sensorId}/actions/${id}/pcap`)).status).toBe(401);
    expect(
      (
        await fetch(`${t.url}/api/v1/sensors/${otherSensorId}/actions/${id}/pcap`, {
          headers: { authorization: `Bearer ${viewer}` },
        })
      ).status,
    ).toBe(404);

    const audit = await t.db.auditEvent.findMany({
      where: { target: { in: [id, sensorId] } },
      orderBy: { id: "asc" },
    });
    expect(audit.map((event) => [event.action, event.outcome, event.actorName])).toEqual([
      ["sensors.requestSnapshot", "success", "snap-operator-token"],
      ["sensors.actionResult", "success", "agent prod-eu-1/node-a"],
    ]);
  });

  it("records a failed snapshot with its reason, and has no pcap for it", async () => {
    const requested = await requestSnapshot({ durationSeconds: 1, filter: "", interface: "eth9" });
    const id = requested.body.id as string;
    expect((await poll("node-a")).body.actions?.map((a) => a.id)).toContain(id);
    const failed = await upload(
      result(id, new Uint8Array(0), {
        status: "failed",
        reason: "interface eth9 is not captured by this sensor (it captures eth0)",
        endedBy: undefined,
        interfaces: [],
        packetCount: 0,
        pcapBytes: 0,
      }),
    );
    expect(failed.status).toBe(200);
    const listed = (await listActions()).body.items.find((item) => item.id === id);
    expect(listed).toMatchObject({
      status: "failed",
      reason: "interface eth9 is not captured by this sensor (it captures eth0)",
      result: { packetCount: 0, pcapAvailable: false, pcapUrl: null },
    });
    const download = await fetch(`${t.url}/api/v1/sensors/${sensorId}/actions/${id}/pcap`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(download.status).toBe(404);
    expect(((await download.json()) as { error: { message: string } }).error.message).toMatch(
      /has no pcap: it is failed/,
    );
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      "a filter the BPF pre-check refuses",
      { filter: "udp port 53 and" },
      "filter",
      /^is not a valid BPF filter/,
    ],
    ["a duration over 300 s", { durationSeconds: 301 }, "durationSeconds", /^must be at most 300/],
    ["a size limit over 16 MiB", { maxBytes: 64 * 1024 * 1024 }, "maxBytes", /^must be at most 16777216/],
    ["a bad interface name", { interface: "eth0/1" }, "interface", /^must be a Linux interface name/],
    [
      "a pickup timeout under 10 s",
      { pickupTimeoutSeconds: 1 },
      "pickupTimeoutSeconds",
      /^must be at least 10/,
    ],
  ])("refuses %s, naming the field, and creates nothing", async (_name, input, field, message) => {
    const before = await t.db.sensorAction.count();
    const refused = await requestSnapshot(input);
    expect(refused.status).toBe(400);
    const fieldErrors = (refused.body as ErrorResponse).error.fieldErrors!;
    expect(Object.keys(fieldErrors)).toEqual([field]);
    expect(fieldErrors[field]![0]).toMatch(message);
    // tRPC callers (the dashboard) get the field and the problem in the message itself.
    const viaTrpc = await t.trpc("sensors.requestSnapshot", {
      input: { id: sensorId, ...input },
      auth: { bearer: operator },
    });
    expect(viaTrpc.status).toBe(400);
    expect(viaTrpc.body.error?.message).toMatch(new RegExp(`^${field}: ${message.source.slice(1)}`));
    expect(await t.db.sensorAction.count()).toBe(before);
  });

  it("says clearly that a sensor does not exist", async () => {
    const unknown = randomUUID();
    const refused = await requestSnapshot({}, operator, unknown);
    expect(refused.status).toBe(404);
    expect((refused.body as ErrorResponse).error.message).toBe(
      `No sensor with id ${unknown} (GET /api/v1/sensors lists them).`,
    );
    expect((await listActions(viewer, unknown)).status).toBe(404);
  });

  it("lets only operators request snapshots and only signed-in callers list actions", async () => {
    const before = await t.db.sensorAction.count();
    expect((await requestSnapshot({}, viewer)).status).toBe(403);
    const anonymous = await fetch(`${t.url}/api/v1/sensors/${sensorId}/snapshots`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(anonymous.status).toBe(401);
    expect(await t.db.sensorAction.count()).toBe(before);
    expect((await listActions(null)).status).toBe(401);
    const viaTrpc = await t.trpc("sensors.actions", {
      input: { id: sensorId },
      auth: { bearer: viewer },
      method: "GET",
    });
    expect(viaTrpc.status).toBe(200);
    const refused = await t.trpc("sensors.requestSnapshot", {
      input: { id: sensorId },
      auth: { bearer: viewer },
    });
    expect(refused.status).toBe(403);
    const audit = await t.db.auditEvent.findFirst({
      where: { action: "sensors.requestSnapshot", outcome: "failure" },
      orderBy: { id: "desc" },
    });
    expect(audit).toMatchObject({ actorName: "snap-viewer-token", errorCode: "FORBIDDEN" });
  });

  it("keeps at most 4 open actions per sensor", async () => {
    await t.db.sensorAction.deleteMany({ where: { sensorId: otherSensorId } });
    for (let i = 0; i < 4; i++) expect((await requestSnapshot({}, operator, otherSensorId)).status).toBe(200);
    const refused = await requestSnapshot({}, operator, otherSensorId);
    expect(refused.status).toBe(409);
    expect((refused.body as ErrorResponse).error.message).toMatch(/already has 4 open actions/);
    expect(await t.db.sensorAction.count({ where: { sensorId: otherSensorId } })).toBe(4);
    await t.db.sensorAction.deleteMany({ where: { sensorId: otherSensorId } });
  });
});

describe("antigena: refusals at /ingest", () => {
  let id: string;
  const pcap = pcapFile(2);
  beforeAll(async () => {
    id = (await requestSnapshot({ durationSeconds: 2, maxPackets: 2 })).body.id as string;
    expect((await poll("node-a")).body.actions?.map((a) => a.id)).toContain(id);
  });

  const signedResult = (body: Uint8Array, overrides: Record<string, unknown> = {}) => ({
    body,
    headers: sign("POST", INGEST_PATHS.actionResults, body, overrides),
  });

  it.each<[string, () => { body: Uint8Array; headers: Record<string, string> }, number, string]>([
    [
      "a tampered body",
      () => {
        const signed = signedResult(result(id, pcap));
        const body = Buffer.from(signed.body);
        body.writeUInt8(body.readUInt8(body.length - 1) ^ 0xff, body.length - 1);
        return { ...signed, body };
      },
      400,
      "bad_digest",
    ],
    ["a wrong key", () => signedResult(result(id, pcap), { key: "not-the-key" }), 401, "bad_signature"],
    [
      "a stale timestamp",
      () => signedResult(result(id, pcap), { now: Date.now() - 10 * 60_000 }),
      401,
      "stale",
    ],
    ["an unknown key id", () => signedResult(result(id, pcap), { keyId: "nobody" }), 401, "unknown_key"],
    [
      "a result claiming another cluster",
      () => signedResult(result(id, pcap, { agent: identity("node-a", "someone-else") })),
      403,
      "unknown_cluster",
    ],
    ["an unknown action", () => signedResult(result(randomUUID(), pcap)), 404, "unknown_action"],
    [
      "another node's upload of this sensor's action",
      () => signedResult(result(id, pcap, { agent: identity("node-b") })),
      404,
      "unknown_action",
    ],
    ["more packets than the action allows", () => signedResult(result(id, pcapFile(3))), 400, "invalid_body"],
    [
      "metadata that disagrees with the pcap",
      () => signedResult(result(id, pcap, { packetCount: 1 })),
      400,
      "invalid_body",
    ],
    ["no signature at all", () => ({ body: result(id, pcap), headers: {} }), 400, "malformed"],
  ])("refuses %s and leaves the action as it was", async (_name, make, status, reason) => {
    const before = await actionRow(id);
    const request = make();
    const refused = await upload(request.body, request.headers);
    expect(refused.status).toBe(status);
    expect(refused.body).toMatchObject({ ok: false, reason });
    expect(refused.body.message).toBeTruthy();
    expect(await actionRow(id)).toEqual(before);
  });

  it("refuses an oversized result with 413 before reading it all", async () => {
    const before = await actionRow(id);
    const big = new Uint8Array(MAX_ACTION_RESULT_BODY_BYTES + 1);
    const refused = await upload(big, sign("POST", INGEST_PATHS.actionResults, big));
    expect(refused).toMatchObject({ status: 413, body: { ok: false, reason: "too_large" } });
    expect(await actionRow(id)).toEqual(before);
  });

  it("refuses a replayed result and a second result for the same action", async () => {
    const request = signedResult(result(id, pcap));
    expect((await upload(request.body, request.headers)).status).toBe(200);
    const after = await actionRow(id);
    const replay = await upload(request.body, request.headers);
    expect(replay).toMatchObject({ status: 401, body: { reason: "replayed" } });
    const second = await upload(result(id, pcapFile(1)));
    expect(second).toMatchObject({ status: 409, body: { reason: "action_closed" } });
    expect(second.body.message).toMatch(/is already succeeded/);
    expect(await actionRow(id)).toEqual(after);
  });

  it.each<[string, () => { path: string; headers: Record<string, string> }, number, string]>([
    [
      "a poll signed for another node",
      () => ({
        path: actionPollPath("node-b"),
        headers: sign("GET", actionPollPath("node-a"), new Uint8Array(0)),
      }),
      401,
      "bad_signature",
    ],
    [
      "a stale poll",
      () => ({
        path: actionPollPath("node-a"),
        headers: sign("GET", actionPollPath("node-a"), new Uint8Array(0), { now: Date.now() - 10 * 60_000 }),
      }),
      401,
      "stale",
    ],
    [
      "a poll with an unknown key id",
      () => ({
        path: actionPollPath("node-a"),
        headers: sign("GET", actionPollPath("node-a"), new Uint8Array(0), { keyId: "nobody" }),
      }),
      401,
      "unknown_key",
    ],
    [
      "a poll without the node",
      () => ({ path: INGEST_PATHS.actions, headers: sign("GET", INGEST_PATHS.actions, new Uint8Array(0)) }),
      400,
      "malformed",
    ],
  ])("refuses %s and hands nothing out", async (_name, make, status, reason) => {
    const pending = (await requestSnapshot({})).body.id as string;
    const { path, headers } = make();
    const refused = await poll("node-a", headers, path);
    expect(refused.status).toBe(status);
    expect(refused.body).toMatchObject({ ok: false, reason });
    expect((await actionRow(pending)).status).toBe("pending");
    await t.db.sensorAction.delete({ where: { id: pending } });
  });

  it("refuses a replayed poll", async () => {
    const headers = sign("GET", actionPollPath("node-a"), new Uint8Array(0));
    expect((await poll("node-a", headers)).status).toBe(200);
    expect((await poll("node-a", headers)).body).toMatchObject({ ok: false, reason: "replayed" });
  });

  it("answers a poll from a node that has not reported yet with no actions", async () => {
    expect(await poll("node-new")).toMatchObject({ status: 200, body: { ok: true, actions: [] } });
  });
});

describe("antigena: expiry", () => {
  it("expires an action nobody picked up, and one without a result in time, refusing a late result", async () => {
    const unpicked = (await requestSnapshot({ pickupTimeoutSeconds: 10 }, operator, otherSensorId)).body
      .id as string;
    const now = Date.now();
    expect(await expireSensorActions({ db: t.db, bus, now: new Date(now + 5_000) })).toEqual([]);
    const expired = await expireSensorActions({ db: t.db, bus, now: new Date(now + 11_000) });
    expect(expired.map((e) => e.id)).toEqual([unpicked]);
    expect(await actionRow(unpicked)).toMatchObject({
      status: "expired",
      reason: expect.stringMatching(/^not picked up in time/),
    });
    // Once only.
    expect(await expireSensorActions({ db: t.db, bus, now: new Date(now + 12_000) })).toEqual([]);

    const late = (await requestSnapshot({ durationSeconds: 1 }, operator, otherSensorId)).body.id as string;
    const polled = await poll("node-b");
    const action = polled.body.actions!.find((a) => a.id === late)!;
    const afterDeadline = await expireSensorActions({ db: t.db, bus, now: new Date(action.deadlineAt + 1) });
    expect(afterDeadline.map((e) => e.id)).toEqual([late]);
    expect(await actionRow(late)).toMatchObject({
      status: "expired",
      reason: expect.stringMatching(/^no result in time/),
    });
    const refused = await upload(result(late, pcapFile(1), { agent: identity("node-b") }));
    expect(refused).toMatchObject({ status: 409, body: { reason: "action_closed" } });
    expect((await actionRow(late)).pcap).toBeNull();

    const audit = await t.db.auditEvent.findMany({
      where: { action: "sensors.actionExpired", target: { in: [unpicked, late] } },
    });
    expect(audit).toHaveLength(2);
    expect(audit.every((event) => event.actorType === "system" && event.outcome === "failure")).toBe(true);
  });
});

describe("antigena: live audit", () => {
  it("streams events recorded in core (an expiry) and by the API (a request) to audit.live, each exactly once", async () => {
    expect(await sendReport("node-live")).toBe(200);
    const liveSensorId = (await t.db.sensor.findFirstOrThrow({ where: { nodeName: "node-live" } })).id;
    const admin = await t.userWithToken("admin", "audit-watcher");
    const latest = await t.db.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });
    const controller = new AbortController();
    const input = encodeURIComponent(JSON.stringify({ lastEventId: latest.id.toString() }));
    const response = await fetch(`${t.url}/trpc/audit.live?input=${input}`, {
      headers: { authorization: `Bearer ${admin.token}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);

    // Recorded by the API's middleware.
    const requested = await requestSnapshot({ pickupTimeoutSeconds: 10 }, operator, liveSensorId);
    expect(requested.status).toBe(200);
    const actionId = requested.body.id as string;
    // Recorded in core, outside any API call, on the bus another replica would hold.
    const expired = await expireSensorActions({
      db: t.db,
      bus,
      now: new Date(Date.now() + 11_000),
      sensorId: liveSensorId,
    });
    expect(expired.map((e) => e.id)).toEqual([actionId]);
    // A last event, after which the stream has everything that came before it.
    const closing = await requestSnapshot({ filter: "not a filter (" }, operator, liveSensorId);
    expect(closing.status).toBe(400);

    // What was recorded, from the log itself: the stream must bring these three, in this order.
    const recorded = await t.db.auditEvent.findMany({
      where: { id: { gt: latest.id }, target: { in: [liveSensorId, actionId] } },
      orderBy: { id: "asc" },
      select: { id: true, action: true },
    });
    expect(recorded.map((e) => e.action)).toEqual([
      "sensors.requestSnapshot",
      "sensors.actionExpired",
      "sensors.requestSnapshot",
    ]);
    const closingId = recorded[2]!.id.toString();
    // The stream delivers in id order, so once the closing event is in, everything before it is.
    const events = await readSse(response).readUntil<{ id: string; action: string; target: string | null }>(
      (received) => received.some((e) => e.id === closingId),
      20_000,
    );
    controller.abort();
    const ours = events.filter((e) => e.target === liveSensorId || e.target === actionId);
    expect(ours.map((e) => ({ id: e.id, action: e.action }))).toEqual(
      recorded.map((e) => ({ id: e.id.toString(), action: e.action })),
    );
    const ids = events.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("antigena: REST description", () => {
  it("lists the new endpoints in the OpenAPI document, with their parameters", async () => {
    const document = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown; parameters?: Array<{ name: string }> }>>;
    };
    expect(document.paths["/sensors/{id}/snapshots"]?.post?.requestBody).toBeDefined();
    expect(JSON.stringify(document.paths["/sensors/{id}/snapshots"])).toContain("durationSeconds");
    expect(document.paths["/sensors/{id}/actions"]?.get?.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(["id", "limit"]),
    );
  });
});

describe("antigena: stats", () => {
  it("accepts reports with Antigena counters and keeps them with the report", async () => {
    const antigena = {
      pollsOk: 7,
      pollsFailed: 1,
      actionsReceived: 2,
      actionsSucceeded: 1,
      actionsFailed: 1,
    };
    expect(await sendReport("node-a", { antigena })).toBe(200);
    const stored = await t.db.sensorReport.findFirstOrThrow({
      where: { nodeName: "node-a" },
      orderBy: { id: "desc" },
    });
    expect((stored.report as { antigena?: unknown }).antigena).toEqual(antigena);
    // The sensors list shows the latest counters, and null for an agent that does not poll.
    const summaryOf = async (nodeName: string) => {
      const listed = await t.trpc("sensors.list", { auth: { bearer: viewer } });
      const items = (listed.body.result?.data as { items: Array<{ nodeName: string; lastSummary: unknown }> })
        .items;
      return items.find((item) => item.nodeName === nodeName)?.lastSummary as { antigena: unknown };
    };
    expect((await summaryOf("node-a")).antigena).toEqual(antigena);
    expect(await sendReport("node-b")).toBe(200);
    expect((await summaryOf("node-b")).antigena).toBeNull();
  });
});
