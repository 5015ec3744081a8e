// Time buckets of traffic: what a rollup row holds, how deltas add up into
// buckets, which resolution answers which range, and how buckets (or single
// deltas) become the columns a chart draws. Pure.
import { z } from "zod";
import { PROTOCOL_NAMES, ratesOf, type ProtocolCounts, type SampleDelta } from "./rates.ts";

/** The time ranges the sensor page offers. */
export const STATS_RANGES = ["15m", "1h", "6h", "24h", "7d"] as const;
export const ZStatsRangeSchema = z.enum(STATS_RANGES);
export type StatsRange = z.infer<typeof ZStatsRangeSchema>;

/** The widths of the stored rollup buckets, in seconds. */
export const ROLLUP_BUCKET_SECONDS = [60, 3600] as const;
export type RollupBucketSeconds = (typeof ROLLUP_BUCKET_SECONDS)[number];

/**
 * How each range is answered, so that a series has at most ~500 points: the
 * last 15 minutes point by point from the reports (≈ 90 at one per 10 s),
 * longer ranges from the rollups, the 24 h range as 5-minute sums of
 * minute buckets.
 */
export const RANGE_PLANS = {
  "15m": { rangeSeconds: 15 * 60, stepSeconds: null, rollup: null },
  "1h": { rangeSeconds: 3600, stepSeconds: 60, rollup: 60 },
  "6h": { rangeSeconds: 6 * 3600, stepSeconds: 60, rollup: 60 },
  "24h": { rangeSeconds: 24 * 3600, stepSeconds: 300, rollup: 60 },
  "7d": { rangeSeconds: 7 * 24 * 3600, stepSeconds: 3600, rollup: 3600 },
} as const satisfies Record<
  StatsRange,
  { rangeSeconds: number; stepSeconds: number | null; rollup: RollupBucketSeconds | null }
>;

/** The traffic of one interface summed over one bucket. */
export interface BucketTotals {
  seconds: number;
  packets: number;
  bytes: number;
  kernelDrops: number;
  interfaceDrops: number;
  maxPacketsPerSecond: number;
  maxBitsPerSecond: number;
  maxDropsPerSecond: number;
  protocols: ProtocolCounts;
}

/** bucket start (epoch ms) → interface → totals. */
export type Buckets = Map<number, Map<string, BucketTotals>>;

export function bucketStartOf(at: number, bucketSeconds: number): number {
  const width = bucketSeconds * 1000;
  return Math.floor(at / width) * width;
}

function emptyProtocols(): ProtocolCounts {
  return { ipv4: 0, ipv6: 0, tcp: 0, udp: 0, icmp: 0, other: 0 };
}

/** Adds `totals` into the bucket (sums add up, maxima take the larger). */
export function addToBuckets(buckets: Buckets, start: number, name: string, totals: BucketTotals): void {
  let byInterface = buckets.get(start);
  if (!byInterface) buckets.set(start, (byInterface = new Map<string, BucketTotals>()));
  const into = byInterface.get(name);
  if (!into) {
    byInterface.set(name, { ...totals, protocols: { ...totals.protocols } });
    return;
  }
  into.seconds += totals.seconds;
  into.packets += totals.packets;
  into.bytes += totals.bytes;
  into.kernelDrops += totals.kernelDrops;
  into.interfaceDrops += totals.interfaceDrops;
  into.maxPacketsPerSecond = Math.max(into.maxPacketsPerSecond, totals.maxPacketsPerSecond);
  into.maxBitsPerSecond = Math.max(into.maxBitsPerSecond, totals.maxBitsPerSecond);
  into.maxDropsPerSecond = Math.max(into.maxDropsPerSecond, totals.maxDropsPerSecond);
  for (const p of PROTOCOL_NAMES) into.protocols[p] += totals.protocols[p];
}

/**
 * Sums deltas into buckets of `bucketSeconds`, each delta in the bucket of the
 * report that ends it. A delta is one interval of traffic, so a bucket's rate
 * is its sum over the seconds its deltas cover, and its peak the fastest
 * single interval.
 */
export function bucketDeltas(
  deltas: readonly SampleDelta[],
  bucketSeconds: number,
  into: Buckets = new Map(),
): Buckets {
  for (const delta of deltas) {
    const start = bucketStartOf(delta.receivedAt, bucketSeconds);
    const rates = ratesOf(delta);
    delta.interfaces.forEach((i, index) => {
      const rate = rates[index]!;
      addToBuckets(into, start, i.name, {
        seconds: delta.seconds,
        packets: i.packets,
        bytes: i.bytes,
        kernelDrops: i.kernelDrops,
        interfaceDrops: i.interfaceDrops,
        maxPacketsPerSecond: rate.packetsPerSecond,
        maxBitsPerSecond: rate.bitsPerSecond,
        maxDropsPerSecond: rate.dropsPerSecond,
        protocols: i.protocols ?? emptyProtocols(),
      });
    });
  }
  return into;
}

/** Re-buckets into wider buckets (minute buckets into 5-minute ones). */
export function widenBuckets(buckets: Buckets, bucketSeconds: number): Buckets {
  const wider: Buckets = new Map();
  for (const [start, byInterface] of buckets)
    for (const [name, totals] of byInterface)
      addToBuckets(wider, bucketStartOf(start, bucketSeconds), name, totals);
  return wider;
}

/** What a chart draws: one shared time column (epoch seconds, as uPlot wants) and a column per interface and measure. */
export const ZStatsColumnsSchema = z.object({
  /** Epoch seconds: the report's receipt, or the bucket's start. */
  timestamps: z.array(z.number()),
  interfaces: z.array(
    z.object({
      name: z.string(),
      /** Null where the interface has no value (a gap, or not captured then). */
      packetsPerSecond: z.array(z.number().nullable()),
      bitsPerSecond: z.array(z.number().nullable()),
      dropsPerSecond: z.array(z.number().nullable()),
    }),
  ),
});
export type StatsColumns = z.infer<typeof ZStatsColumnsSchema>;

interface Row {
  at: number;
  values: Map<string, { packetsPerSecond: number; bitsPerSecond: number; dropsPerSecond: number }>;
}

/**
 * Rows into columns, with a null row wherever two rows are further apart than
 * `gapMs`, so a chart breaks its lines over a silence instead of drawing across it.
 */
function columnsOf(rows: readonly Row[], gapMs: number): StatsColumns {
  const names = [...new Set(rows.flatMap((row) => [...row.values.keys()]))].sort();
  const timestamps: number[] = [];
  const columns = names.map((name) => ({
    name,
    packetsPerSecond: [] as (number | null)[],
    bitsPerSecond: [] as (number | null)[],
    dropsPerSecond: [] as (number | null)[],
  }));
  let last: number | null = null;
  for (const row of [...rows].sort((a, b) => a.at - b.at)) {
    if (last !== null && row.at - last > gapMs) {
      timestamps.push((last + row.at) / 2 / 1000);
      for (const column of columns) {
        column.packetsPerSecond.push(null);
        column.bitsPerSecond.push(null);
        column.dropsPerSecond.push(null);
      }
    }
    timestamps.push(row.at / 1000);
    for (const column of columns) {
      const value = row.values.get(column.name);
      column.packetsPerSecond.push(value ? value.packetsPerSecond : null);
      column.bitsPerSecond.push(value ? value.bitsPerSecond : null);
      column.dropsPerSecond.push(value ? value.dropsPerSecond : null);
    }
    last = row.at;
  }
  return { timestamps, interfaces: columns };
}

/** One point per delta (per report). A silence longer than `gapMs` breaks the lines. */
export function columnsOfDeltas(deltas: readonly SampleDelta[], gapMs: number): StatsColumns {
  return columnsOf(
    deltas.map((delta) => ({
      at: delta.receivedAt,
      values: new Map(ratesOf(delta).map((rate) => [rate.name, rate])),
    })),
    gapMs,
  );
}

/** One point per bucket: its sums over the seconds they cover. A missing bucket breaks the lines. */
export function columnsOfBuckets(buckets: Buckets, bucketSeconds: number): StatsColumns {
  return columnsOf(
    [...buckets].map(([start, byInterface]) => ({
      at: start,
      values: new Map(
        [...byInterface]
          .filter(([, totals]) => totals.seconds > 0)
          .map(([name, totals]) => [
            name,
            {
              packetsPerSecond: totals.packets / totals.seconds,
              bitsPerSecond: (totals.bytes * 8) / totals.seconds,
              dropsPerSecond: (totals.kernelDrops + totals.interfaceDrops) / totals.seconds,
            },
          ]),
      ),
    })),
    bucketSeconds * 1000 * 1.5,
  );
}

/** Packets by protocol over all interfaces and buckets. */
export function protocolTotals(buckets: Buckets): ProtocolCounts {
  const total = emptyProtocols();
  for (const byInterface of buckets.values())
    for (const totals of byInterface.values())
      for (const p of PROTOCOL_NAMES) total[p] += totals.protocols[p];
  return total;
}
