import { describe, expect, it } from "vitest";
import { applyLiveReport } from "./apply-live-report";

function report(sensorId: string, sequence: number, packets: number) {
  return {
    sensorId,
    clusterId: "prod",
    nodeName: "node-a",
    receivedAt: `2026-11-22T12:00:${String(sequence).padStart(2, "0")}Z`,
    sentAt: `2026-11-22T12:00:${String(sequence).padStart(2, "0")}Z`,
    sequence,
    packets,
    bytes: packets * 100,
    kernelDrops: 0,
    interfaceDrops: 0,
    interfaces: [],
    upload: { chunksSent: 0, bytesSent: 0, chunksDropped: 0, reportsDropped: 0 },
  };
}

const sensor = {
  id: "s1",
  clusterId: "prod",
  nodeName: "node-a",
  podName: "tapfleet-sensor-abc",
  agentVersion: "0.1.0",
  configHash: "h",
  firstSeenAt: "2026-11-22T11:00:00Z",
  lastSeenAt: "2026-11-22T12:00:01Z",
  lastSummary: report("s1", 1, 10),
};

describe("applyLiveReport", () => {
  it("replaces the last summary of a known sensor", () => {
    const { list, known } = applyLiveReport({ items: [sensor] }, report("s1", 2, 20));
    expect(known).toBe(true);
    expect(list.items[0]?.lastSummary?.packets).toBe(20);
    expect(list.items[0]?.lastSeenAt).toBe("2026-11-22T12:00:02Z");
  });

  it("keeps a newer summary when an older report arrives late", () => {
    const newer = { ...sensor, lastSummary: report("s1", 5, 50) };
    const { list } = applyLiveReport({ items: [newer] }, report("s1", 4, 40));
    expect(list.items[0]?.lastSummary?.packets).toBe(50);
  });

  it("tells the caller about a sensor it does not know", () => {
    const before = { items: [sensor] };
    const { list, known } = applyLiveReport(before, report("s2", 1, 1));
    expect(known).toBe(false);
    expect(list).toBe(before);
  });
});
