// Appending a live point to a loaded series: a pure function so it can be tested without a
// server. Columns stay aligned (a point without an interface gets null there, a new interface
// gets nulls before it) and points that fell out of the range are dropped.
import type { RouterOutputs } from "@/lib/trpc";

type Series = RouterOutputs["stats"]["series"];
export type LivePoint = {
  timestamp: number;
  interfaces: { name: string; packetsPerSecond: number; bitsPerSecond: number; dropsPerSecond: number }[];
};

export function appendPoint(series: Series, point: LivePoint, nowMs: number): Series {
  const last = series.timestamps[series.timestamps.length - 1];
  // Already there (the query was refetched after the report), or older than what is shown.
  if (last !== undefined && point.timestamp <= last) return series;
  const names = new Set([...series.interfaces.map((i) => i.name), ...point.interfaces.map((i) => i.name)]);
  const nulls = () => series.timestamps.map(() => null);
  const gap = last !== undefined && (point.timestamp - last) * 1000 > 3 * series.reportIntervalSeconds * 1000;
  const timestamps = gap
    ? [...series.timestamps, (last + point.timestamp) / 2, point.timestamp]
    : [...series.timestamps, point.timestamp];
  const interfaces = [...names].sort().map((name) => {
    const column = series.interfaces.find((i) => i.name === name) ?? {
      name,
      packetsPerSecond: nulls(),
      bitsPerSecond: nulls(),
      dropsPerSecond: nulls(),
    };
    const value = point.interfaces.find((i) => i.name === name);
    const push = (values: (number | null)[], v: number | undefined) => [
      ...values,
      ...(gap ? [null] : []),
      v ?? null,
    ];
    return {
      name,
      packetsPerSecond: push(column.packetsPerSecond, value?.packetsPerSecond),
      bitsPerSecond: push(column.bitsPerSecond, value?.bitsPerSecond),
      dropsPerSecond: push(column.dropsPerSecond, value?.dropsPerSecond),
    };
  });
  // Keep the window the range names: drop what is now older than its start.
  const from = nowMs / 1000 - (Date.parse(series.to) - Date.parse(series.from)) / 1000;
  const keepFrom = timestamps.findIndex((t) => t >= from);
  const cut = keepFrom < 0 ? timestamps.length : keepFrom;
  return {
    ...series,
    from: new Date(from * 1000).toISOString(),
    to: new Date(nowMs).toISOString(),
    timestamps: timestamps.slice(cut),
    interfaces: interfaces.map((i) => ({
      name: i.name,
      packetsPerSecond: i.packetsPerSecond.slice(cut),
      bitsPerSecond: i.bitsPerSecond.slice(cut),
      dropsPerSecond: i.dropsPerSecond.slice(cut),
    })),
  };
}
