import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_SKEW_MS,
  INGEST_PATHS,
  MAX_INT32,
  MAX_TIMESTAMP_MS,
  SIGNATURE_HEADERS,
  ZChunkMetadataSchema,
  ZIngestResponseSchema,
  ZStatsReportSchema,
  canonicalString,
  checkStorableText,
  decodeChunkUpload,
  decodeStatsReport,
  encodeChunkUpload,
  encodeChunkUploadParts,
  encodeStatsReport,
  sha256Hex,
  signRequest,
  verifyRequest,
  type ChunkMetadata,
  type StatsReport,
  type VerifyRequestOptions,
} from "./protocol.ts";
import { encodePcap, LINKTYPE, summarizePcap } from "./pcap.ts";

const NOW = 1_763_800_000_000;
const KEY = "current-key-0123456789abcdef";
const OLD_KEY = "previous-key-0123456789abcdef";
const BODY = '{"hello":"world"}';

function signed(overrides: Partial<Parameters<typeof signRequest>[0]> = {}) {
  return signRequest({
    method: "POST",
    path: INGEST_PATHS.reports,
    body: BODY,
    keyId: "prod-eu-1",
    key: KEY,
    now: NOW,
    nonce: "bm9uY2Utbm9uY2Utbm9uY2U",
    ...overrides,
  });
}

function options(overrides: Partial<VerifyRequestOptions> = {}): VerifyRequestOptions {
  const seen = new Set<string>();
  return {
    method: "POST",
    path: INGEST_PATHS.reports,
    headers: signed(),
    body: BODY,
    keys: (keyId) => (keyId === "prod-eu-1" ? [KEY, OLD_KEY] : []),
    now: NOW,
    seenNonce: (nonce, keyId) => {
      const id = `${keyId}/${nonce}`;
      const had = seen.has(id);
      seen.add(id);
      return had;
    },
    ...overrides,
  };
}

describe("signRequest", () => {
  it("signs the documented canonical string (README example)", () => {
    const headers = signed();
    const canonical = [
      "TAPFLEET-HMAC-SHA256",
      "1",
      "POST",
      "/ingest/v1/reports",
      String(NOW),
      "bm9uY2Utbm9uY2Utbm9uY2U",
      "prod-eu-1",
      sha256Hex(BODY),
    ].join("\n");
    expect(
      canonicalString({
        method: "POST",
        path: "/ingest/v1/reports",
        timestamp: NOW,
        nonce: "bm9uY2Utbm9uY2Utbm9uY2U",
        keyId: "prod-eu-1",
        contentSha256: sha256Hex(BODY),
      }),
    ).toBe(canonical);
    expect(headers).toEqual({
      "x-tapfleet-version": "1",
      "x-tapfleet-key-id": "prod-eu-1",
      "x-tapfleet-timestamp": String(NOW),
      "x-tapfleet-nonce": "bm9uY2Utbm9uY2Utbm9uY2U",
      "x-tapfleet-content-sha256": sha256Hex(BODY),
      "x-tapfleet-signature": createHmac("sha256", KEY).update(canonical).digest("hex"),
    });
  });

  it("matches the README's worked example", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const headers = signRequest({
      method: "post",
      path: "/ingest/v1/reports",
      body: "",
      keyId: "demo",
      key: "demo-key",
      now: 1763800000000,
      nonce: "AAAAAAAAAAAAAAAAAAAAAA",
    });
    expect(headers[SIGNATURE_HEADERS.signature]).toBe(README_EXAMPLE_SIGNATURE);
  });

  it.each([
    [{ method: "GE T" }, "invalid method"],
    [{ path: "ingest" }, "path must start"],
    [{ path: "/a b" }, "path must start"],
    [{ keyId: "bad id" }, "invalid key id"],
    [{ nonce: "short" }, "nonce"],
    [{ now: -1 }, "epoch milliseconds"],
    [{ key: "" }, "empty key"],
  ])("refuses %j", (override, message) => {
    expect(() => signed(override)).toThrow(message);
  });
});

// Computed independently (node -e with createHmac over the lines below) and quoted in the README.
const README_EXAMPLE_SIGNATURE = "2d933711c20bf48783893632816e010f59ea46a822928c5d8555c514a42d42ad";

describe("verifyRequest", () => {
  it("accepts a signed request and says which key matched", async () => {
    expect(await verifyRequest(options())).toEqual({
      ok: true,
      keyId: "prod-eu-1",
      keyIndex: 0,
      timestamp: NOW,
      nonce: "bm9uY2Utbm9uY2Utbm9uY2U",
    });
  });

  it("accepts either key during rotation", async () => {
    const result = await verifyRequest(options({ headers: signed({ key: OLD_KEY }) }));
    expect(result).toMatchObject({ ok: true, keyIndex: 1 });
  });

  it("accepts header names in any case and Uint8Array bodies", async () => {
    const headers = Object.fromEntries(
      Object.entries(signed()).map(([name, value]) => [name.toUpperCase(), value]),
    );
    expect(await verifyRequest(options({ headers, body: new TextEncoder().encode(BODY) }))).toMatchObject({
      ok: true,
    });
  });

  it("accepts a timestamp at the edge of the window", async () => {
    expect(await verifyRequest(options({ now: NOW + DEFAULT_SKEW_MS }))).toMatchObject({ ok: true });
    expect(await verifyRequest(options({ now: NOW - DEFAULT_SKEW_MS }))).toMatchObject({ ok: true });
  });

  const headers = signed();
  const without = (name: string) =>
    Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name));
  it.each<[string, Partial<VerifyRequestOptions>, string]>([
    ["missing signature", { headers: without(SIGNATURE_HEADERS.signature) }, "malformed"],
    ["missing nonce", { headers: without(SIGNATURE_HEADERS.nonce) }, "malformed"],
    [
      "repeated header",
      { headers: { ...headers, [SIGNATURE_HEADERS.nonce]: [headers[SIGNATURE_HEADERS.nonce]!, "x"] } },
      "malformed",
    ],
    [
      "same header twice in different case",
      { headers: { ...headers, "X-Tapfleet-Nonce": headers[SIGNATURE_HEADERS.nonce] } },
      "malformed",
    ],
    [
      "non-numeric timestamp",
      { headers: { ...headers, [SIGNATURE_HEADERS.timestamp]: "soon" } },
      "malformed",
    ],
    ["short nonce", { headers: { ...headers, [SIGNATURE_HEADERS.nonce]: "abc" } }, "malformed"],
    ["signature not hex", { headers: { ...headers, [SIGNATURE_HEADERS.signature]: "zz" } }, "malformed"],
    ["newline in path", { path: "/ingest/v1/reports\nx" }, "malformed"],
    ["other version", { headers: { ...headers, [SIGNATURE_HEADERS.version]: "2" } }, "unsupported_version"],
    ["body over the limit", { maxBodyBytes: 4 }, "too_large"],
    ["body changed", { body: '{"hello":"mallory"}' }, "bad_digest"],
    ["too old", { now: NOW + DEFAULT_SKEW_MS + 1 }, "stale"],
    ["from the future", { now: NOW - DEFAULT_SKEW_MS - 1 }, "stale"],
    ["tighter window", { now: NOW + 2000, skewMs: 1000 }, "stale"],
    ["unknown key id", { headers: signed({ keyId: "other" }) }, "unknown_key"],
    ["wrong key", { headers: signed({ key: "not-the-key" }) }, "bad_signature"],
    ["other path", { path: INGEST_PATHS.chunks }, "bad_signature"],
    ["other method", { method: "PUT" }, "bad_signature"],
    [
      "key id swapped",
      { headers: { ...headers, [SIGNATURE_HEADERS.keyId]: "prod-eu-2" }, keys: () => [KEY] },
      "bad_signature",
    ],
    [
      "timestamp changed",
      { headers: { ...headers, [SIGNATURE_HEADERS.timestamp]: String(NOW + 1) } },
      "bad_signature",
    ],
    [
      "body and digest both changed",
      { body: "x", headers: { ...headers, [SIGNATURE_HEADERS.contentSha256]: sha256Hex("x") } },
      "bad_signature",
    ],
  ])("%s → %s", async (_name, override, reason) => {
    const result = await verifyRequest(options(override));
    expect(result).toMatchObject({ ok: false, reason });
  });

  it("rejects a replay, per key id, and remembers the nonce until it would be stale", async () => {
    const calls: Array<[string, string, number]> = [];
    const opts = options();
    const seenNonce = opts.seenNonce;
    opts.seenNonce = (nonce, keyId, expiresAt) => {
      calls.push([nonce, keyId, expiresAt]);
      return seenNonce(nonce, keyId, expiresAt);
    };
    expect(await verifyRequest(opts)).toMatchObject({ ok: true });
    expect(await verifyRequest(opts)).toMatchObject({ ok: false, reason: "replayed" });
    expect(calls[0]).toEqual(["bm9uY2Utbm9uY2Utbm9uY2U", "prod-eu-1", NOW + DEFAULT_SKEW_MS]);
  });

  it("does not record nonces of requests that fail the signature", async () => {
    let recorded = 0;
    await verifyRequest(options({ headers: signed({ key: "wrong" }), seenNonce: () => (recorded++, false) }));
    expect(recorded).toBe(0);
  });

  it("supports async key lookup and nonce stores", async () => {
    const result = await verifyRequest(
      options({ keys: () => Promise.resolve([KEY]), seenNonce: () => Promise.resolve(false) }),
    );
    expect(result.ok).toBe(true);
  });
});

const identity = {
  clusterId: "prod-eu-1",
  nodeName: "node-a",
  podName: "tapfleet-sensor-x7k2p",
  agentVersion: "0.1.0",
  configHash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  startedAt: NOW - 60_000,
  sequence: 6,
};

const REPORT: StatsReport = {
  protocolVersion: 1,
  agent: identity,
  sentAt: NOW,
  interfaces: [
    {
      name: "eth0",
      packets: 1000,
      bytes: 640_000,
      kernelDrops: 3,
      interfaceDrops: 0,
      protocols: { ipv4: 990, ipv6: 10, tcp: 900, udp: 95, icmp: 5, other: 0 },
      topTalkers: [
        { address: "10.0.0.7", packets: 400, bytes: 300_000 },
        { address: "fd00::7", packets: 10, bytes: 900 },
      ],
    },
  ],
  upload: { chunksSent: 12, bytesSent: 1_200_000, chunksDropped: { bandwidth_cap: 2, queue_full: 1 } },
};

describe("stats reports", () => {
  it("round-trips through JSON", () => {
    expect(decodeStatsReport(encodeStatsReport(REPORT))).toEqual({ ok: true, value: REPORT });
  });

  it("carries the reports an agent dropped, by reason, and stays valid without them", () => {
    const withDrops: StatsReport = {
      ...REPORT,
      upload: { ...REPORT.upload, reportsDropped: { outbox_full: 3, rejected: 1 } },
    };
    expect(decodeStatsReport(encodeStatsReport(withDrops))).toEqual({ ok: true, value: withDrops });
    expect(REPORT.upload.reportsDropped).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ["not JSON", "{"],
    ["negative counter", { ...REPORT, interfaces: [{ ...REPORT.interfaces[0], packets: -1 }] }],
    ["bad drop reason", { ...REPORT, upload: { ...REPORT.upload, chunksDropped: { gremlins: 1 } } }],
    ["bad report drop reason", { ...REPORT, upload: { ...REPORT.upload, reportsDropped: { lost: 1 } } }],
    [
      "negative report drops",
      { ...REPORT, upload: { ...REPORT.upload, reportsDropped: { outbox_full: -1 } } },
    ],
    [
      "bad talker address",
      {
        ...REPORT,
        interfaces: [{ ...REPORT.interfaces[0], topTalkers: [{ address: "node-a", packets: 1, bytes: 1 }] }],
      },
    ],
    [
      "too many talkers",
      {
        ...REPORT,
        interfaces: [
          {
            ...REPORT.interfaces[0],
            topTalkers: Array.from({ length: 21 }, () => ({ address: "10.0.0.1", packets: 1, bytes: 1 })),
          },
        ],
      },
    ],
    ["other protocol version", { ...REPORT, protocolVersion: 2 }],
    ["unknown field", { ...REPORT, extra: true }],
  ])("rejects %s", (_name, body) => {
    const result = decodeStatsReport(typeof body === "string" ? body : JSON.stringify(body));
    expect(result).toMatchObject({ ok: false, reason: "invalid_body" });
  });
});

// What PostgreSQL and a JS Date cannot hold is refused by the schema, with
// the field's path, so that the server answers 400 instead of failing to store.
describe("stats reports: values the server could not store", () => {
  const NUL = "\u0000";
  /** A report as loose JSON, to set values the types would not allow. */
  type Loose = {
    sentAt: unknown;
    agent: Record<string, unknown>;
    interfaces: Array<Record<string, unknown>>;
  };
  const loose = () => structuredClone(REPORT) as unknown as Loose;
  it("documents the latest timestamp as the last millisecond of the year 9999", () => {
    expect(new Date(MAX_TIMESTAMP_MS).toISOString()).toBe("9999-12-31T23:59:59.999Z");
    expect(MAX_INT32).toBe(2 ** 31 - 1);
  });

  it.each<[string, (r: Loose) => void]>([
    ["sentAt at the latest timestamp", (r) => (r.sentAt = MAX_TIMESTAMP_MS)],
    ["agent.startedAt at the epoch", (r) => (r.agent.startedAt = 0)],
    ["a sequence of 2^53−1 (a bigint column holds it)", (r) => (r.agent.sequence = Number.MAX_SAFE_INTEGER)],
    ["a surrogate pair (well-formed) in podName", (r) => (r.agent.podName = "pod-\u{1F600}")],
    ["non-ASCII text in agentVersion", (r) => (r.agent.agentVersion = "0.1.0-é")],
  ])("accepts %s", (_name, mutate) => {
    const report = loose();
    mutate(report);
    expect(ZStatsReportSchema.safeParse(report).success).toBe(true);
  });

  it.each<[string, string, (r: Loose) => void, RegExp]>([
    [
      "sentAt one ms past the latest timestamp",
      "sentAt",
      (r) => (r.sentAt = MAX_TIMESTAMP_MS + 1),
      /9999-12-31/,
    ],
    ["sentAt beyond what a Date holds", "sentAt", (r) => (r.sentAt = 8.64e15 + 1), /9999-12-31/],
    ["sentAt of 2^53−1", "sentAt", (r) => (r.sentAt = Number.MAX_SAFE_INTEGER), /9999-12-31/],
    ["sentAt beyond 2^53", "sentAt", (r) => (r.sentAt = 2 ** 60), /9999-12-31/],
    ["a negative sentAt", "sentAt", (r) => (r.sentAt = -1), /./],
    [
      "agent.startedAt of 2^53−1",
      "agent.startedAt",
      (r) => (r.agent.startedAt = Number.MAX_SAFE_INTEGER),
      /9999/,
    ],
    ["a sequence beyond 2^53−1", "agent.sequence", (r) => (r.agent.sequence = 2 ** 53), /./],
    ["a NUL in clusterId", "agent.clusterId", (r) => (r.agent.clusterId = `prod${NUL}`), /NUL/],
    ["a NUL in nodeName", "agent.nodeName", (r) => (r.agent.nodeName = `node${NUL}a`), /NUL/],
    [
      "a lone high surrogate in nodeName",
      "agent.nodeName",
      (r) => (r.agent.nodeName = "node-\ud800"),
      /surrogate/,
    ],
    ["a lone low surrogate in podName", "agent.podName", (r) => (r.agent.podName = "\udc00pod"), /surrogate/],
    ["a reversed pair in podName", "agent.podName", (r) => (r.agent.podName = "\udc00\ud800"), /surrogate/],
    ["a NUL in agentVersion", "agent.agentVersion", (r) => (r.agent.agentVersion = NUL), /NUL/],
    ["a NUL in an interface name", "interfaces.0.name", (r) => (r.interfaces[0]!.name = `eth${NUL}`), /NUL/],
    [
      "a lone surrogate in an interface name",
      "interfaces.0.name",
      (r) => (r.interfaces[0]!.name = "\ud83d"),
      /surrogate/,
    ],
  ])("refuses %s, naming %s", (_name, field, mutate, message) => {
    const report = loose();
    mutate(report);
    // Through JSON, as the server receives it: escapes such as \ud800 survive JSON.stringify.
    const decoded = decodeStatsReport(JSON.stringify(report));
    expect(decoded.ok).toBe(false);
    const text = !decoded.ok ? decoded.message : "";
    expect(text).toContain(`${field}: `);
    expect(text).toMatch(message);
  });

  it("refuses to encode what it would refuse to decode (the agent finds out before sending)", () => {
    expect(() => encodeStatsReport({ ...REPORT, sentAt: Number.MAX_SAFE_INTEGER })).toThrow(/sentAt/);
  });

  it.each([
    ["plain text", "node-a", undefined],
    ["a well-formed pair", "a\u{1F600}b", undefined],
    ["a NUL", "a\u0000", /NUL/],
    ["a lone high surrogate at the end", "a\ud800", /surrogate/],
    ["a lone high surrogate before a letter", "\ud800a", /surrogate/],
    ["a lone low surrogate", "a\udc00", /surrogate/],
  ])("checkStorableText: %s", (_name, value, problem) => {
    const result = checkStorableText(value);
    if (problem === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(problem);
  });
});

function pcapFile(
  packets: Array<{ seconds: number; micros: number; bytes: number }>,
  littleEndian = true,
): Uint8Array {
  return encodePcap({
    linkType: LINKTYPE.ETHERNET,
    snapLength: 65535,
    littleEndian,
    records: packets.map((packet) => ({
      seconds: packet.seconds,
      fraction: packet.micros,
      data: new Uint8Array(packet.bytes),
    })),
  });
}

describe("chunk uploads", () => {
  const pcap = pcapFile([
    { seconds: 1_763_800_000, micros: 5, bytes: 60 },
    { seconds: 1_763_800_001, micros: 250_000, bytes: 1514 },
  ]);
  const metadata: ChunkMetadata = {
    protocolVersion: 1,
    agent: identity,
    interface: "eth0",
    firstPacketAtUs: 1_763_800_000_000_005,
    lastPacketAtUs: 1_763_800_001_250_000,
    packetCount: 2,
    pcapBytes: pcap.byteLength,
  };

  it("round-trips metadata and pcap bytes", () => {
    const decoded = decodeChunkUpload(encodeChunkUpload(metadata, pcap));
    expect(decoded.ok && decoded.value.metadata).toEqual(metadata);
    expect(decoded.ok && Array.from(decoded.value.pcap)).toEqual(Array.from(pcap));
  });

  it("encodes the same body in two parts (metadata line, pcap not copied) that verifies when signed part by part", async () => {
    const whole = encodeChunkUpload(metadata, pcap);
    const parts = encodeChunkUploadParts(metadata, pcap);
    expect(parts[1]).toBe(pcap);
    expect(Array.from(parts[0].at(-1) === 0x0a ? [...parts[0], ...parts[1]] : [])).toEqual(Array.from(whole));
    expect(sha256Hex(parts)).toBe(sha256Hex(whole));
    const headers = signed({ path: INGEST_PATHS.chunks, body: parts });
    await expect(
      verifyRequest(options({ path: INGEST_PATHS.chunks, headers, body: whole })),
    ).resolves.toMatchObject({ ok: true });
    expect(() => encodeChunkUploadParts({ ...metadata, pcapBytes: 1 }, pcap)).toThrow(/pcapBytes/);
  });

  it("reads big-endian pcap files too", () => {
    const big = pcapFile([{ seconds: 1, micros: 2, bytes: 10 }], false);
    expect(summarizePcap(big)).toEqual({
      ok: true,
      summary: { packetCount: 1, firstPacketAtUs: 1_000_002, lastPacketAtUs: 1_000_002, linkType: 1 },
    });
  });

  it.each<[string, Uint8Array, string]>([
    ["no metadata line", new Uint8Array([1, 2, 3]), "no metadata line"],
    [
      "wrong packet count",
      encodeChunkUpload({ ...metadata, packetCount: 3 }, pcap),
      "does not match the pcap",
    ],
    [
      "wrong first timestamp",
      encodeChunkUpload({ ...metadata, firstPacketAtUs: metadata.firstPacketAtUs + 1 }, pcap),
      "does not match the pcap",
    ],
    [
      "truncated pcap",
      (() => {
        const body = encodeChunkUpload(metadata, pcap);
        const head = body.indexOf(0x0a) + 1;
        const meta = JSON.stringify({ ...metadata, pcapBytes: pcap.byteLength - 1 });
        return new Uint8Array([
          ...new TextEncoder().encode(meta + "\n"),
          ...body.subarray(head, body.byteLength - 1),
        ]);
      })(),
      "truncated record",
    ],
    ["not pcap", encodeChunkUpload({ ...metadata, pcapBytes: 24 }, new Uint8Array(24)), "bad magic"],
  ])("rejects %s", (_name, body, message) => {
    const result = decodeChunkUpload(body);
    expect(result).toMatchObject({ ok: false, reason: "invalid_body" });
    expect(!result.ok && result.message).toContain(message);
  });

  it("refuses to encode metadata that disagrees with the pcap size", () => {
    expect(() => encodeChunkUpload({ ...metadata, pcapBytes: 1 }, pcap)).toThrow(/pcapBytes/);
  });

  it.each<[string, string, Record<string, unknown>]>([
    [
      "agent.startedAt of 2^53−1",
      "agent.startedAt",
      { agent: { ...identity, startedAt: Number.MAX_SAFE_INTEGER } },
    ],
    ["a NUL in the interface", "interface", { interface: "eth\u0000" }],
    ["a lone surrogate in the interface", "interface", { interface: "eth\udfff" }],
    ["a packet count an integer column cannot hold", "packetCount", { packetCount: MAX_INT32 + 1 }],
    ["packet times beyond 2^53−1", "firstPacketAtUs", { firstPacketAtUs: 2 ** 53 }],
  ])("refuses metadata with %s, naming %s", (_name, field, override) => {
    const parsed = ZChunkMetadataSchema.safeParse({ ...metadata, ...override });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join("."))).toContain(field);
  });
});

describe("ingest responses", () => {
  it.each([
    [{ ok: true, serverTime: NOW }, true],
    [{ ok: true, serverTime: NOW, desiredConfigHash: "ab" }, true],
    [{ ok: false, reason: "stale", message: "clock", serverTime: NOW }, true],
    [
      {
        ok: false,
        reason: "internal",
        message: "internal server error (request r1); retry later",
        serverTime: NOW,
      },
      true,
    ],
    [{ ok: false, reason: "nope", message: "", serverTime: NOW }, false],
  ])("%j", (response, valid) => {
    expect(ZIngestResponseSchema.safeParse(response).success).toBe(valid);
  });
});
