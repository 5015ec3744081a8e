import { PROTOCOL_VERSION, type StatsReport } from "@tapfleet/sensor";
import { describe, expect, it } from "vitest";
import { dedupeReports, judgeNonces, nodeKey, type SensorState, type WriteOutcome } from "./report-dedupe.ts";

const startedAt = Date.parse("2026-11-30T08:00:00Z");
const restartedAt = startedAt + 60_000;

function report(node: string, sequence: number, agentStartedAt = startedAt): { report: StatsReport } {
  return {
    report: {
      protocolVersion: PROTOCOL_VERSION,
      agent: {
        clusterId: "c1",
        nodeName: node,
        podName: "agent-x",
        agentVersion: "0.1.0",
        configHash: "0123456789abcdef",
        startedAt: agentStartedAt,
        sequence,
      },
      sentAt: agentStartedAt + sequence * 1000,
      interfaces: [],
      upload: { chunksSent: 0, bytesSent: 0, chunksDropped: {} },
    },
  };
}

/** A sensor row as the lock returns it; a placeholder row (never reported) has sequence -1 at the epoch. */
function sensor(
  node: string,
  id: string,
  lastSequence: number,
  agentStartedAt = startedAt,
): [string, SensorState] {
  return [
    nodeKey({ clusterId: "c1", nodeName: node }),
    { id, agentStartedAt, lastSequence: BigInt(lastSequence) },
  ];
}

describe("judgeNonces", () => {
  const cases: {
    name: string;
    batch: [keyId: string, nonce: string][];
    fresh: [keyId: string, nonce: string][];
    expected: WriteOutcome[];
  }[] = [
    { name: "an empty batch", batch: [], fresh: [], expected: [] },
    {
      name: "every nonce inserted",
      batch: [
        ["k1", "n1"],
        ["k1", "n2"],
      ],
      fresh: [
        ["k1", "n2"],
        ["k1", "n1"],
      ],
      expected: ["stored", "stored"],
    },
    {
      name: "a nonce the insert skipped was seen before",
      batch: [
        ["k1", "n1"],
        ["k1", "n2"],
      ],
      fresh: [["k1", "n2"]],
      expected: ["replayed", "stored"],
    },
    {
      name: "the same nonce twice in one batch is fresh the first time only",
      batch: [
        ["k1", "n1"],
        ["k1", "n1"],
        ["k1", "n1"],
      ],
      fresh: [["k1", "n1"]],
      expected: ["stored", "replayed", "replayed"],
    },
    {
      name: "one nonce under two key ids is two nonces",
      batch: [
        ["k1", "n1"],
        ["k2", "n1"],
      ],
      fresh: [
        ["k1", "n1"],
        ["k2", "n1"],
      ],
      expected: ["stored", "stored"],
    },
    {
      name: "key id and nonce are not run together",
      batch: [["k1", "n1"]],
      fresh: [["k1n", "1"]],
      expected: ["replayed"],
    },
  ];
  it.each(cases)("$name", ({ batch, fresh, expected }) => {
    expect(judgeNonces({ batch: batch.map(([keyId, nonce]) => ({ keyId, nonce })), fresh })).toEqual(
      expected,
    );
  });
});

describe("dedupeReports", () => {
  const cases: {
    name: string;
    batch: { report: StatsReport }[];
    nonces?: WriteOutcome[];
    sensors: [string, SensorState][];
    outcomes: WriteOutcome[];
    stored: { index: number; sensorId: string }[];
    latest: { index: number; sensorId: string }[];
  }[] = [
    {
      name: "a sensor's first reports, on its placeholder row",
      batch: [report("a", 0), report("a", 1)],
      sensors: [sensor("a", "id-a", -1, 0)],
      outcomes: ["stored", "stored"],
      stored: [
        { index: 0, sensorId: "id-a" },
        { index: 1, sensorId: "id-a" },
      ],
      latest: [{ index: 1, sensorId: "id-a" }],
    },
    {
      name: "a resend of the stored sequence, and of an older one",
      batch: [report("a", 5), report("a", 4), report("a", 6)],
      sensors: [sensor("a", "id-a", 5)],
      outcomes: ["duplicate", "duplicate", "stored"],
      stored: [{ index: 2, sensorId: "id-a" }],
      latest: [{ index: 2, sensorId: "id-a" }],
    },
    {
      name: "a resend within the batch",
      batch: [report("a", 8), report("a", 8)],
      sensors: [sensor("a", "id-a", 7)],
      outcomes: ["stored", "duplicate"],
      stored: [{ index: 0, sensorId: "id-a" }],
      latest: [{ index: 0, sensorId: "id-a" }],
    },
    {
      name: "reports out of order: the later one is taken as a resend (arrival order decides)",
      batch: [report("a", 9), report("a", 8)],
      sensors: [sensor("a", "id-a", 7)],
      outcomes: ["stored", "duplicate"],
      stored: [{ index: 0, sensorId: "id-a" }],
      latest: [{ index: 0, sensorId: "id-a" }],
    },
    {
      name: "a restarted agent counts from 0 again",
      batch: [report("a", 0, restartedAt), report("a", 0, restartedAt)],
      sensors: [sensor("a", "id-a", 40)],
      outcomes: ["stored", "duplicate"],
      stored: [{ index: 0, sensorId: "id-a" }],
      latest: [{ index: 0, sensorId: "id-a" }],
    },
    {
      name: "replays stay replays and are not counted as reports",
      batch: [report("a", 3), report("a", 3), report("a", 4)],
      nonces: ["replayed", "stored", "replayed"],
      sensors: [sensor("a", "id-a", 2)],
      outcomes: ["replayed", "stored", "replayed"],
      stored: [{ index: 1, sensorId: "id-a" }],
      latest: [{ index: 1, sensorId: "id-a" }],
    },
    {
      name: "several sensors: every new report stored in arrival order, the newest of each in sensor id order",
      batch: [report("b", 1), report("a", 1), report("b", 2), report("a", 1), report("c", 0)],
      sensors: [sensor("a", "id-2", 0), sensor("b", "id-3", 0), sensor("c", "id-1", 0)],
      outcomes: ["stored", "stored", "stored", "duplicate", "duplicate"],
      stored: [
        { index: 0, sensorId: "id-3" },
        { index: 1, sensorId: "id-2" },
        { index: 2, sensorId: "id-3" },
      ],
      latest: [
        { index: 1, sensorId: "id-2" },
        { index: 2, sensorId: "id-3" },
      ],
    },
    {
      name: "nothing new",
      batch: [report("a", 1)],
      nonces: ["replayed"],
      sensors: [],
      outcomes: ["replayed"],
      stored: [],
      latest: [],
    },
  ];
  it.each(cases)("$name", ({ batch, nonces, sensors, outcomes, stored, latest }) => {
    const state = new Map(sensors);
    const before = structuredClone(sensors);
    const result = dedupeReports({ batch, nonces: nonces ?? batch.map(() => "stored"), sensors: state });
    expect(result).toEqual({ outcomes, stored, latest });
    // Pure: the state it was given is left as it was.
    expect([...state.entries()]).toEqual(before);
  });

  it("refuses a fresh report whose sensor is not in the state, instead of guessing", () => {
    expect(() =>
      dedupeReports({ batch: [report("unknown", 0)], nonces: ["stored"], sensors: new Map() }),
    ).toThrow(/no state for node unknown/);
  });
});
