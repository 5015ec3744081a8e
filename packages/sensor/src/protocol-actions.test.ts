// Antigena additions to the wire protocol: poll path, actions, result uploads
// and the optional counters in stats reports.
import { describe, expect, it } from "vitest";
import {
  actionPollPath,
  decodeActionPoll,
  decodeActionResultUpload,
  decodeStatsReport,
  encodeActionResultUpload,
  encodeStatsReport,
  INGEST_PATHS,
  parseActionPollPath,
  signRequest,
  verifyRequest,
  ZPcapSnapshotParamsSchema,
  type ActionResultMetadata,
  type StatsReport,
} from "./protocol.ts";
import { encodePcap, LINKTYPE } from "./pcap.ts";

const NOW = 1_763_800_000_000;
const ACTION_ID = "6f1c2a36-7d0e-4d4b-9a55-2f6c1d8e9b10";

const identity = {
  clusterId: "prod-eu-1",
  nodeName: "node-a",
  podName: "tapfleet-sensor-x7k2p",
  agentVersion: "0.1.0",
  configHash: "0123456789abcdef",
  startedAt: NOW - 60_000,
  sequence: 0,
};

const REPORT: StatsReport = {
  protocolVersion: 1,
  agent: identity,
  sentAt: NOW,
  interfaces: [],
  upload: { chunksSent: 0, bytesSent: 0, chunksDropped: {} },
};

function pcapFile(count: number): Uint8Array {
  return encodePcap({
    linkType: LINKTYPE.ETHERNET,
    snapLength: 65535,
    records: Array.from({ length: count }, (_, i) => ({
      seconds: 1_763_800_000 + i,
      fraction: 0,
      data: new Uint8Array(60),
    })),
  });
}

const snapshot = {
  id: ACTION_ID,
  type: "pcap_snapshot",
  requestedAt: NOW - 1000,
  deadlineAt: NOW + 60_000,
  params: { durationSeconds: 10, filter: "udp port 53", maxBytes: 1 << 20, maxPackets: 1000 },
};

describe("stats reports with Antigena counters", () => {
  const antigena = { pollsOk: 5, pollsFailed: 1, actionsReceived: 2, actionsSucceeded: 1, actionsFailed: 1 };

  it("round-trip with the counters, and stay valid without them (older agents, Antigena off)", () => {
    const withCounters = { ...REPORT, antigena };
    expect(decodeStatsReport(encodeStatsReport(withCounters))).toEqual({ ok: true, value: withCounters });
    expect(decodeStatsReport(encodeStatsReport(REPORT))).toEqual({ ok: true, value: REPORT });
  });

  it("reject a negative or unknown counter", () => {
    expect(
      decodeStatsReport(JSON.stringify({ ...REPORT, antigena: { ...antigena, pollsOk: -1 } })),
    ).toMatchObject({ ok: false, message: expect.stringContaining("antigena.pollsOk") });
    expect(
      decodeStatsReport(JSON.stringify({ ...REPORT, antigena: { ...antigena, extra: 1 } })),
    ).toMatchObject({ ok: false });
  });
});

describe("poll path", () => {
  it("carries the node name, escaped, and reads back", () => {
    const path = actionPollPath("node a/1");
    expect(path).toBe("/ingest/v1/actions?node=node%20a%2F1");
    expect(parseActionPollPath(path)).toEqual({ ok: true, nodeName: "node a/1" });
  });

  it("can be signed and verified as a GET with an empty body", async () => {
    const path = actionPollPath("node-a");
    const headers = signRequest({
      method: "GET",
      path,
      body: "",
      keyId: "prod-eu-1",
      key: "k".repeat(32),
      now: NOW,
      nonce: "AAAAAAAAAAAAAAAAAAAAAA",
    });
    const verified = await verifyRequest({
      method: "GET",
      path,
      headers,
      body: new Uint8Array(0),
      keys: () => ["k".repeat(32)],
      now: NOW,
      seenNonce: () => false,
    });
    expect(verified).toMatchObject({ ok: true });
    // The node is part of the signed target: another node's poll does not verify.
    const forged = await verifyRequest({
      method: "GET",
      path: actionPollPath("node-b"),
      headers,
      body: new Uint8Array(0),
      keys: () => ["k".repeat(32)],
      now: NOW,
      seenNonce: () => false,
    });
    expect(forged).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it.each([
    ["/ingest/v1/actions", "exactly ?node="],
    ["/ingest/v1/actions?node=", "node: must be 1–253"],
    ["/ingest/v1/actions?node=%00", "node: must not contain a NUL"],
    ["/ingest/v1/actions?node=node-a%00b", "node: must not contain a NUL"],
    [`/ingest/v1/actions?node=${"a".repeat(254)}`, "node: must be 1–253"],
    ["/ingest/v1/actions?node=a&node=b", "exactly ?node="],
    ["/ingest/v1/actions?node=a&x=1", "exactly ?node="],
    ["/ingest/v1/reports?node=a", "path must be"],
  ])("refuses %s", (target, message) => {
    const parsed = parseActionPollPath(target);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain(message);
  });
});

describe("snapshot parameters", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["a duration of 0", { durationSeconds: 0 }, "durationSeconds"],
    ["a duration over 300 s", { durationSeconds: 301 }, "durationSeconds"],
    ["a fractional duration", { durationSeconds: 1.5 }, "durationSeconds"],
    ["a filter the BPF pre-check refuses", { filter: "udp port 53 and" }, "filter"],
    ["an unbalanced filter", { filter: "(udp" }, "filter"],
    ["a filter over 1024 characters", { filter: "udp or ".repeat(200) + "udp" }, "filter"],
    ["an interface name over 15 characters", { interface: "a-very-long-interface" }, "interface"],
    ["maxBytes under 1 KiB", { maxBytes: 100 }, "maxBytes"],
    ["maxBytes over 16 MiB", { maxBytes: 16 * 1024 * 1024 + 1 }, "maxBytes"],
    ["maxPackets of 0", { maxPackets: 0 }, "maxPackets"],
    ["an unknown field", { snapLength: 96 }, ""],
  ])("refuses %s, naming the field", (_name, change, field) => {
    const result = ZPcapSnapshotParamsSchema.safeParse({ ...snapshot.params, ...change });
    expect(result.success).toBe(false);
    if (field !== "") expect(result.error?.issues[0]?.path).toEqual([field]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["a duration of 0", { durationSeconds: 0 }, "must be at least 1 second"],
    ["a duration over 300 s", { durationSeconds: 301 }, "must be at most 300 seconds"],
    ["maxPackets of 0", { maxPackets: 0 }, "must be at least 1 packet"],
    ["maxBytes under 1 KiB", { maxBytes: 100 }, "must be at least 1024 bytes"],
  ])("words the bound for %s in good grammar", (_name, change, message) => {
    const result = ZPcapSnapshotParamsSchema.safeParse({ ...snapshot.params, ...change });
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([message]);
  });

  it("accepts an empty filter (everything the sensor captures)", () => {
    expect(ZPcapSnapshotParamsSchema.safeParse({ ...snapshot.params, filter: "" }).success).toBe(true);
  });
});

describe("poll answers", () => {
  it("decode known actions and set apart the ones this agent does not know", () => {
    const other = { id: "0b7a3c1e-1f2d-4e5f-8a9b-0c1d2e3f4a5b", type: "quarantine_host", params: {} };
    const decoded = decodeActionPoll(
      JSON.stringify({ ok: true, serverTime: NOW, actions: [snapshot, other, { type: "no id" }] }),
    );
    expect(decoded).toMatchObject({
      ok: true,
      serverTime: NOW,
      actions: [snapshot],
      unsupported: [{ id: other.id, type: "quarantine_host" }],
    });
  });

  it("decode a refusal with its reason, and say when the answer is not one", () => {
    expect(
      decodeActionPoll(JSON.stringify({ ok: false, reason: "stale", message: "clock", serverTime: NOW })),
    ).toEqual({ ok: false, message: "clock", reason: "stale" });
    expect(decodeActionPoll("<html>")).toEqual({ ok: false, message: "answer is not JSON" });
  });
});

describe("result uploads", () => {
  const pcap = pcapFile(3);
  const succeeded: ActionResultMetadata = {
    protocolVersion: 1,
    agent: identity,
    actionId: ACTION_ID,
    status: "succeeded",
    startedAt: NOW,
    finishedAt: NOW + 10_000,
    interfaces: ["eth0"],
    endedBy: "duration",
    packetCount: 3,
    pcapBytes: pcap.byteLength,
  };

  it("round-trip a pcap with its metadata", () => {
    const decoded = decodeActionResultUpload(encodeActionResultUpload(succeeded, pcap));
    expect(decoded.ok && decoded.value.metadata).toEqual(succeeded);
    expect(decoded.ok && Buffer.from(decoded.value.pcap).equals(Buffer.from(pcap))).toBe(true);
  });

  it("round-trip a failure, which carries no pcap", () => {
    const failed: ActionResultMetadata = {
      ...succeeded,
      status: "failed",
      reason: "interface eth9 is not captured by this sensor",
      endedBy: undefined,
      packetCount: 0,
      pcapBytes: 0,
      interfaces: [],
    };
    delete failed.endedBy;
    const decoded = decodeActionResultUpload(encodeActionResultUpload(failed, new Uint8Array(0)));
    expect(decoded).toMatchObject({ ok: true, value: { metadata: failed } });
  });

  const head = (metadata: unknown) => Buffer.from(JSON.stringify(metadata) + "\n");
  it.each<[string, Uint8Array, string]>([
    ["no metadata line", Buffer.from("{}"), "no metadata line"],
    [
      "a packet count that disagrees with the pcap",
      Buffer.concat([head({ ...succeeded, packetCount: 4 }), pcap]),
      "packetCount is 4 but the pcap holds 3",
    ],
    [
      "a size that disagrees with what follows",
      Buffer.concat([head({ ...succeeded, pcapBytes: pcap.byteLength + 1 }), pcap]),
      "bytes follow",
    ],
    [
      "a failure without a reason",
      head({ ...succeeded, status: "failed", packetCount: 0, pcapBytes: 0 }),
      "reason: is required",
    ],
    [
      "a success without what ended it",
      Buffer.concat([head({ ...succeeded, endedBy: undefined }), pcap]),
      "endedBy: is required",
    ],
    [
      "a pcap that is not one",
      Buffer.concat([head({ ...succeeded, pcapBytes: 30 }), Buffer.alloc(30)]),
      "bad magic",
    ],
    ["an action id that is not a UUID", head({ ...succeeded, actionId: "x" }), "actionId"],
    [
      "a NUL in the reason",
      head({ ...succeeded, status: "failed", reason: "no\u0000", packetCount: 0, pcapBytes: 0 }),
      "reason: must not contain a NUL",
    ],
    [
      "a lone surrogate in the reason",
      head({ ...succeeded, status: "failed", reason: "bad \ud800", packetCount: 0, pcapBytes: 0 }),
      "reason: must be well-formed Unicode",
    ],
    [
      "a NUL in an interface",
      Buffer.concat([head({ ...succeeded, interfaces: ["eth0", "eth\u00001"] }), pcap]),
      "interfaces.1: must not contain a NUL",
    ],
    [
      "a startedAt a Date cannot hold",
      Buffer.concat([head({ ...succeeded, startedAt: Number.MAX_SAFE_INTEGER }), pcap]),
      "startedAt: must be epoch milliseconds no later than 9999-12-31",
    ],
    [
      "a finishedAt beyond the latest timestamp",
      Buffer.concat([head({ ...succeeded, finishedAt: 8.64e15 + 1 }), pcap]),
      "finishedAt: must be epoch milliseconds",
    ],
    [
      "a packet count an integer column cannot hold",
      Buffer.concat([head({ ...succeeded, packetCount: 2 ** 31 }), pcap]),
      "packetCount: ",
    ],
  ])("refuse %s", (_name, body, message) => {
    const decoded = decodeActionResultUpload(body);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.message).toContain(message);
  });

  it("refuses to encode metadata that disagrees with the pcap size", () => {
    expect(() => encodeActionResultUpload({ ...succeeded, pcapBytes: 1 }, pcap)).toThrow();
  });

  it("uses the documented paths", () => {
    expect(INGEST_PATHS.actions).toBe("/ingest/v1/actions");
    expect(INGEST_PATHS.actionResults).toBe("/ingest/v1/action-results");
  });
});
