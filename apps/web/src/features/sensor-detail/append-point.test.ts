import { describe, expect, it } from "vitest";
import { appendPoint } from "./append-point";

const T = 1_800_000_000;

function series(timestamps: number[], eth0: (number | null)[]) {
  return {
    sensorId: "s",
    range: "15m" as const,
    from: new Date((T - 900) * 1000).toISOString(),
    to: new Date(T * 1000).toISOString(),
    resolution: "report" as const,
    stepSeconds: null,
    source: "reports" as const,
    reportIntervalSeconds: 10,
    timestamps,
    interfaces: [{ name: "eth0", packetsPerSecond: eth0, bitsPerSecond: eth0, dropsPerSecond: eth0 }],
    protocols: { ipv4: 0, ipv6: 0, tcp: 0, udp: 0, icmp: 0, other: 0 },
  };
}

const rates = (name: string, value: number) => ({
  name,
  packetsPerSecond: value,
  bitsPerSecond: value,
  dropsPerSecond: value,
});

describe("appendPoint", () => {
  it("appends a point, aligned, with a new interface filled with nulls before it", () => {
    const next = appendPoint(
      series([T - 10], [5]),
      { timestamp: T, interfaces: [rates("eth0", 7), rates("eth1", 1)] },
      T * 1000,
    );
    expect(next.timestamps).toEqual([T - 10, T]);
    expect(next.interfaces.map((i) => [i.name, i.packetsPerSecond])).toEqual([
      ["eth0", [5, 7]],
      ["eth1", [null, 1]],
    ]);
  });

  it("ignores a point it already has, and breaks the line after a silence", () => {
    const start = series([T - 10], [5]);
    expect(appendPoint(start, { timestamp: T - 10, interfaces: [rates("eth0", 9)] }, T * 1000)).toBe(start);
    const after = appendPoint(start, { timestamp: T + 60, interfaces: [rates("eth0", 9)] }, (T + 60) * 1000);
    expect(after.interfaces[0]!.packetsPerSecond).toEqual([5, null, 9]);
  });

  it("drops points that left the range", () => {
    const next = appendPoint(
      series([T - 900, T - 10], [1, 2]),
      { timestamp: T + 30, interfaces: [rates("eth0", 3)] },
      (T + 30) * 1000,
    );
    // The oldest left the 15 minutes; 40 s without a report (interval 10 s) breaks the line in the middle.
    expect(next.timestamps).toEqual([T - 10, T + 10, T + 30]);
  });
});
