import { describe, expect, it } from "vitest";
import { readPcap, writePcapRecordHeader } from "@tapfleet/sensor/pcap";
import {
  assemblePcap,
  combineFilters,
  runPcapSnapshot,
  type CapturedPacket,
  type SnapshotSource,
} from "./snapshot.ts";

describe("combineFilters", () => {
  it.each([
    ["", "", ""],
    ["not port 22", "", "not port 22"],
    ["", "udp port 53", "udp port 53"],
    ["not port 22", "udp port 53", "(not port 22) and (udp port 53)"],
    // Parentheses keep an "or" in either part from escaping the other.
    ["tcp or udp", "host 10.0.0.1 or host 10.0.0.2", "(tcp or udp) and (host 10.0.0.1 or host 10.0.0.2)"],
    ["  ", " icmp ", "icmp"],
  ])("(%j, %j) → %j", (base, action, expected) => {
    expect(combineFilters(base, action)).toBe(expected);
  });
});

describe("assemblePcap", () => {
  const record = (atUs: number, marker: number): { atUs: number; bytes: Buffer } => {
    const bytes = Buffer.alloc(16 + 4);
    writePcapRecordHeader(bytes, 0, Math.floor(atUs / 1e6), atUs % 1e6, 4, 4);
    bytes.writeUInt32LE(marker, 16);
    return { atUs, bytes };
  };

  it("writes a classic pcap header and the records in time order, whatever order interfaces delivered them in", () => {
    const file = assemblePcap([record(3_000_002, 3), record(1_000_000, 1), record(2_500_000, 2)], 1, 65535);
    const { header, records } = readPcap(file);
    expect(header).toEqual({
      littleEndian: true,
      nanoseconds: false,
      versionMajor: 2,
      versionMinor: 4,
      snapLength: 65535,
      linkType: 1,
    });
    expect(records.map((entry) => [entry.atUs, Buffer.from(entry.data).readUInt32LE(0)])).toEqual([
      [1_000_000, 1],
      [2_500_000, 2],
      [3_000_002, 3],
    ]);
    expect(file.byteLength).toBe(24 + 3 * 20);
  });

  it("is a valid empty capture when nothing matched", () => {
    expect(assemblePcap([], 1, 65535).byteLength).toBe(24);
  });
});

/** A source fed by the test: each open session's packets are pushed by hand. */
function scriptedSource(options: { linkTypes?: Record<string, number>; refuse?: string } = {}) {
  const open = new Map<string, (packet: CapturedPacket) => void>();
  const closed: string[] = [];
  const source: SnapshotSource = {
    open: ({ device, onPacket }) => {
      if (options.refuse !== undefined) return Promise.reject(new Error(options.refuse));
      open.set(device, onPacket);
      return Promise.resolve({
        linkType: options.linkTypes?.[device] ?? 1,
        close: () => {
          open.delete(device);
          closed.push(device);
        },
      });
    },
  };
  const push = (device: string, atUs: number, size = 100) =>
    open.get(device)?.({
      seconds: Math.floor(atUs / 1e6),
      microseconds: atUs % 1e6,
      data: Buffer.alloc(size, 0xab),
      capturedLength: size,
      wireLength: size,
    });
  return { source, open, closed, push };
}

const T = 1_763_800_000_000;
const params = { durationSeconds: 1, filter: "udp", maxBytes: 1 << 20, maxPackets: 1000 };

function environment(source: SnapshotSource, captured = ["eth0"]) {
  let started: { interfaces: string[]; filter: string } | undefined;
  return {
    env: {
      source,
      capturedInterfaces: () => captured,
      baseFilter: "not port 443",
      snapLength: 65535,
      captureTimeoutMs: 5,
      now: () => T,
      onStarted: (details: { interfaces: string[]; filter: string }) => (started = details),
    },
    started: () => started,
  };
}

const startedTick = () => new Promise((resolve) => setImmediate(resolve));

describe("runPcapSnapshot", () => {
  it("ends before the pcap would pass maxBytes, and says so", async () => {
    const { source, push, closed } = scriptedSource();
    const { env } = environment(source);
    const running = runPcapSnapshot(env, { ...params, durationSeconds: 60, maxBytes: 1024 });
    await startedTick();
    for (let i = 0; i < 20; i++) push("eth0", T * 1000 - 1000 + i);
    const result = await running;
    expect(result).toMatchObject({ status: "succeeded", endedBy: "max_bytes", packetCount: 8 });
    if (result.status !== "succeeded") return;
    expect(result.pcap.byteLength).toBe(24 + 8 * 116);
    expect(closed).toEqual(["eth0"]);
  });

  it("keeps only packets stamped up to the end, even when they are handed over late", async () => {
    const { source, push } = scriptedSource();
    const { env, started } = environment(source, ["eth0", "eth1"]);
    const running = runPcapSnapshot(env, params);
    await startedTick();
    expect(started()).toEqual({ interfaces: ["eth0", "eth1"], filter: "(not port 443) and (udp)" });
    push("eth1", T * 1000 - 2);
    push("eth0", T * 1000 + 5); // after the end (the clock reads T when the duration is over)
    push("eth0", T * 1000 - 1);
    const result = await running;
    expect(result).toMatchObject({ status: "succeeded", endedBy: "duration", packetCount: 2 });
    if (result.status !== "succeeded") return;
    const stamps = readPcap(result.pcap).records.map((entry) => entry.atUs);
    expect(stamps).toEqual([T * 1000 - 2, T * 1000 - 1]);
  });

  it("leaves out an interface whose link type differs, with a note", async () => {
    const { source } = scriptedSource({ linkTypes: { tun0: 12 } });
    const { env } = environment(source, ["eth0", "tun0"]);
    const result = await runPcapSnapshot(env, params);
    expect(result).toMatchObject({
      status: "succeeded",
      interfaces: ["eth0"],
      note: "tun0 left out: its link type 12 differs from 1",
    });
  });

  it.each<
    [
      string,
      ReturnType<typeof scriptedSource>,
      string[],
      Partial<typeof params> & { interface?: string },
      string,
    ]
  >([
    [
      "an interface the sensor does not capture",
      scriptedSource(),
      ["eth0"],
      { interface: "eth9" },
      "interface eth9 is not captured by this sensor (it captures eth0)",
    ],
    ["no interface at all", scriptedSource(), [], {}, "the sensor captures on no interface right now"],
    [
      "a filter libpcap refuses",
      scriptedSource({ refuse: "syntax error" }),
      ["eth0"],
      { filter: "udp port x" },
      'cannot capture on eth0 with filter "(not port 443) and (udp port x)" (libpcap: syntax error)',
    ],
  ])("fails, with a reason, on %s", async (_name, scripted, captured, change, reason) => {
    const { env } = environment(scripted.source, captured);
    expect(await runPcapSnapshot(env, { ...params, ...change })).toMatchObject({ status: "failed", reason });
  });

  it("fails when the agent stops during the capture, closing its sessions", async () => {
    const { source, closed } = scriptedSource();
    const { env } = environment(source);
    const abort = new AbortController();
    const running = runPcapSnapshot(env, { ...params, durationSeconds: 60 }, abort.signal);
    await startedTick();
    abort.abort();
    expect(await running).toMatchObject({
      status: "failed",
      reason: "the agent stopped before the snapshot ended",
    });
    expect(closed).toEqual(["eth0"]);
  });
});
