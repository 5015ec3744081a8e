import { describe, expect, it } from "vitest";
import {
  bucketDeltas,
  columnsOfBuckets,
  columnsOfDeltas,
  protocolTotals,
  RANGE_PLANS,
  STATS_RANGES,
  widenBuckets,
} from "./buckets.ts";
import type { SampleDelta } from "./rates.ts";

const T0 = Date.parse("2026-12-01T00:00:00Z");

function delta(at: number, seconds: number, interfaces: Record<string, number>): SampleDelta {
  return {
    receivedAt: at,
    seconds,
    interfaces: Object.entries(interfaces).map(([name, packets]) => ({
      name,
      packets,
      bytes: packets * 125,
      kernelDrops: 0,
      interfaceDrops: 0,
      protocols: { ipv4: packets, ipv6: 0, tcp: packets, udp: 0, icmp: 0, other: 0 },
    })),
  };
}

describe("range plans", () => {
  it.each(STATS_RANGES)("%s has at most 500 points per series", (range) => {
    const plan = RANGE_PLANS[range];
    const step = plan.stepSeconds ?? 10; // one report per 10 s, the agents' default
    expect(plan.rangeSeconds / step).toBeLessThanOrEqual(500);
  });
  it("reads stored rollups for every range past 15 minutes, hourly ones for 7 days", () => {
    expect(RANGE_PLANS["15m"].rollup).toBeNull();
    expect(RANGE_PLANS["7d"].rollup).toBe(3600);
    for (const range of ["1h", "6h", "24h"] as const) expect(RANGE_PLANS[range].rollup).toBe(60);
  });
});

describe("bucketDeltas", () => {
  const cases: {
    name: string;
    deltas: SampleDelta[];
    bucketSeconds: number;
    expected: Record<string, [number, number, number]>;
  }[] = [
    {
      name: "deltas in one minute add up; the rate is the sum over the seconds covered, the peak the fastest interval",
      deltas: [delta(T0 + 10_000, 10, { eth0: 100 }), delta(T0 + 20_000, 10, { eth0: 300 })],
      bucketSeconds: 60,
      expected: { [`${T0}/eth0`]: [20, 400, 30] },
    },
    {
      name: "bucket edges: a delta at 59.999 s is in the first minute, one at 60.000 s in the second",
      deltas: [delta(T0 + 59_999, 10, { eth0: 100 }), delta(T0 + 60_000, 10, { eth0: 200 })],
      bucketSeconds: 60,
      expected: { [`${T0}/eth0`]: [10, 100, 10], [`${T0 + 60_000}/eth0`]: [10, 200, 20] },
    },
    {
      name: "interfaces are kept apart",
      deltas: [delta(T0 + 10_000, 10, { eth0: 100, eth1: 50 })],
      bucketSeconds: 3600,
      expected: { [`${T0}/eth0`]: [10, 100, 10], [`${T0}/eth1`]: [10, 50, 5] },
    },
  ];
  it.each(cases)("$name", ({ deltas, bucketSeconds, expected }) => {
    const buckets = bucketDeltas(deltas, bucketSeconds);
    const got: Record<string, [number, number, number]> = {};
    for (const [start, byInterface] of buckets)
      for (const [name, t] of byInterface)
        got[`${start}/${name}`] = [t.seconds, t.packets, t.maxPacketsPerSecond];
    expect(got).toEqual(expected);
  });

  it("adding twice in halves equals adding at once (rollups stitched to the newest reports)", () => {
    const all = [
      delta(T0 + 10_000, 10, { eth0: 100 }),
      delta(T0 + 20_000, 10, { eth0: 300 }),
      delta(T0 + 70_000, 10, { eth0: 5 }),
    ];
    const once = bucketDeltas(all, 60);
    const halves = bucketDeltas(all.slice(1), 60, bucketDeltas(all.slice(0, 1), 60));
    expect(halves).toEqual(once);
  });

  it("widens minute buckets into 5-minute ones, summing and keeping the peak", () => {
    const minutes = bucketDeltas(
      [delta(T0 + 10_000, 10, { eth0: 100 }), delta(T0 + 250_000, 10, { eth0: 900 })],
      60,
    );
    const wide = widenBuckets(minutes, 300);
    expect([...wide.keys()]).toEqual([T0]);
    const t = wide.get(T0)!.get("eth0")!;
    expect([t.seconds, t.packets, t.maxPacketsPerSecond]).toEqual([20, 1000, 90]);
    expect(protocolTotals(wide).tcp).toBe(1000);
  });
});

describe("columns", () => {
  it("a bucket per row, bit/s from bytes, and a null row over a missing bucket", () => {
    const buckets = bucketDeltas(
      [delta(T0 + 10_000, 10, { eth0: 100 }), delta(T0 + 190_000, 10, { eth0: 200 })],
      60,
    );
    const columns = columnsOfBuckets(buckets, 60);
    expect(columns.timestamps).toEqual([T0 / 1000, (T0 + 90_000) / 1000, (T0 + 180_000) / 1000]);
    expect(columns.interfaces).toEqual([
      {
        name: "eth0",
        packetsPerSecond: [10, null, 20],
        bitsPerSecond: [10_000, null, 20_000],
        dropsPerSecond: [0, null, 0],
      },
    ]);
  });

  it("a point per report, aligned across interfaces, null where an interface has no value", () => {
    const columns = columnsOfDeltas(
      [delta(T0 + 10_000, 10, { eth0: 100 }), delta(T0 + 20_000, 10, { eth0: 100, eth1: 20 })],
      30_000,
    );
    expect(columns.timestamps).toEqual([(T0 + 10_000) / 1000, (T0 + 20_000) / 1000]);
    expect(columns.interfaces.map((i) => [i.name, i.packetsPerSecond])).toEqual([
      ["eth0", [10, 10]],
      ["eth1", [null, 2]],
    ]);
  });
});
