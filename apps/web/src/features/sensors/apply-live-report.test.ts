import { describe, expect, it } from "vitest";
import { applyLiveReport } from "./apply-live-report";

function summary(sensorId: string, sequence: number, packets: number) {
  return {
    sensorId,
    clusterId: "prod",
    nodeName: "node-a",
    receivedAt: `2026-11-22T12:00:${String(sequence).padStart(2, "0")}Z`,
    sentAt: `2026-11-22T12:00:${String(sequence).padStart(2, "0")}Z`,
    sequence,
    agentStartedAt: null,
    reportIntervalSeconds: 5,
    packets,
    bytes: packets * 100,
    kernelDrops: 0,
    interfaceDrops: 0,
    interfaces: [],
    upload: { chunksSent: 0, bytesSent: 0, chunksDropped: 0, reportsDropped: 0 },
  };
}

/** A report as the live stream sends it: the summary with the sensor's reporting state after it. */
function report(sensorId: string, sequence: number, packets: number) {
  const silentAt = new Date(Date.parse(summary(sensorId, sequence, packets).receivedAt) + 15_000);
  return {
    ...summary(sensorId, sequence, packets),
    reporting: { state: "reporting" as const, silentAt: silentAt.toISOString(), silentSince: null },
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
  lastSummary: summary("s1", 1, 10),
  reporting: {
    state: "silent" as const,
    silentAt: "2026-11-22T12:00:16.000Z",
    silentSince: "2026-11-22T12:00:16.000Z",
  },
};

describe("applyLiveReport", () => {
  it("replaces the last summary of a known sensor", () => {
    const list = applyLiveReport({ items: [sensor] }, report("s1", 2, 20));
    expect(list?.items[0]?.lastSummary?.packets).toBe(20);
    expect(list?.items[0]?.lastSeenAt).toBe("2026-11-22T12:00:02Z");
  });

  it("takes the reporting state the server sent with the report, and keeps it out of the summary", () => {
    const list = applyLiveReport({ items: [sensor] }, report("s1", 2, 20));
    expect(list?.items[0]?.reporting).toEqual({
      state: "reporting",
      silentAt: "2026-11-22T12:00:17.000Z",
      silentSince: null,
    });
    expect(list?.items[0]?.lastSummary).toEqual(summary("s1", 2, 20));
  });

  it("leaves the other sensors and the list it was given as they were", () => {
    const other = { ...sensor, id: "s2", podName: "tapfleet-sensor-def" };
    const before = { items: [sensor, other] };
    const list = applyLiveReport(before, report("s1", 2, 20));
    expect(list?.items[1]).toBe(other);
    expect(before.items[0]).toBe(sensor);
    expect(sensor.lastSummary.packets).toBe(10);
  });

  it("keeps a newer summary when an older report arrives late, and says nothing changed", () => {
    const before = { items: [{ ...sensor, lastSummary: summary("s1", 5, 50) }] };
    const list = applyLiveReport(before, report("s1", 4, 40));
    expect(list).toBe(before);
    expect(list?.items[0]?.lastSummary?.packets).toBe(50);
  });

  it("asks for a refetch for a sensor it does not know", () => {
    expect(applyLiveReport({ items: [sensor] }, report("s2", 1, 1))).toBeNull();
  });
});
