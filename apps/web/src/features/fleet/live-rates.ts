// Capture rates of many sensors at once, from the server's live points (stats.clusterLive): the
// latest point of each sensor, summed per cluster, and a short history of those sums for the
// sparklines. Pure: the page keeps the state and feeds it points.

export interface LivePoint {
  sensorId: string;
  clusterId: string;
  nodeName: string;
  /** Epoch seconds. */
  timestamp: number;
  seconds: number;
  reportIntervalSeconds: number | null;
  interfaces: { packetsPerSecond: number; bitsPerSecond: number; dropsPerSecond: number }[];
}

export interface Rates {
  packetsPerSecond: number;
  bitsPerSecond: number;
  dropsPerSecond: number;
  /** Drops ÷ (captured + dropped) × 100; null when nothing passed. */
  dropPercent: number | null;
}

export interface LiveRatesState {
  /** The latest point of each sensor, by sensor id. */
  latest: Record<string, LivePoint>;
  /** Per cluster (and "" for the fleet): [epoch seconds, packets/s] after each point, oldest first. */
  history: Record<string, [number, number][]>;
}

export const EMPTY_LIVE_RATES: LiveRatesState = { latest: {}, history: {} };

/** Points kept per sparkline. */
export const HISTORY_LENGTH = 60;

/** A sensor's point no longer counts once it is older than this many report intervals. */
const STALE_INTERVALS = 3;
const DEFAULT_INTERVAL_SECONDS = 10;

function isCurrent(point: LivePoint, nowSeconds: number): boolean {
  const interval = point.reportIntervalSeconds ?? Math.max(point.seconds, DEFAULT_INTERVAL_SECONDS);
  return nowSeconds - point.timestamp <= interval * STALE_INTERVALS;
}

export function ratesOfPoint(point: LivePoint): Rates {
  return withDropPercent(
    point.interfaces.reduce(
      (sum, i) => ({
        packetsPerSecond: sum.packetsPerSecond + i.packetsPerSecond,
        bitsPerSecond: sum.bitsPerSecond + i.bitsPerSecond,
        dropsPerSecond: sum.dropsPerSecond + i.dropsPerSecond,
      }),
      { packetsPerSecond: 0, bitsPerSecond: 0, dropsPerSecond: 0 },
    ),
  );
}

function withDropPercent(rates: Omit<Rates, "dropPercent">): Rates {
  const offered = rates.packetsPerSecond + rates.dropsPerSecond;
  return { ...rates, dropPercent: offered > 0 ? (rates.dropsPerSecond / offered) * 100 : null };
}

/**
 * The summed rates of the current points of one cluster's sensors (every cluster's with
 * `clusterId` undefined), or null when none of them has a current point.
 */
export function sumRates(
  state: LiveRatesState,
  clusterId: string | undefined,
  nowSeconds: number,
): Rates | null {
  let found = false;
  const total = { packetsPerSecond: 0, bitsPerSecond: 0, dropsPerSecond: 0 };
  for (const point of Object.values(state.latest)) {
    if (clusterId !== undefined && point.clusterId !== clusterId) continue;
    if (!isCurrent(point, nowSeconds)) continue;
    found = true;
    const rates = ratesOfPoint(point);
    total.packetsPerSecond += rates.packetsPerSecond;
    total.bitsPerSecond += rates.bitsPerSecond;
    total.dropsPerSecond += rates.dropsPerSecond;
  }
  return found ? withDropPercent(total) : null;
}

/** The state after one more point: the sensor's latest replaced, its cluster's and the fleet's sums recorded. */
export function addLivePoint(state: LiveRatesState, point: LivePoint): LiveRatesState {
  const known = state.latest[point.sensorId];
  if (known && known.timestamp >= point.timestamp) return state;
  const next: LiveRatesState = {
    latest: { ...state.latest, [point.sensorId]: point },
    history: { ...state.history },
  };
  for (const key of [point.clusterId, ""]) {
    const sum = sumRates(next, key === "" ? undefined : key, point.timestamp);
    next.history[key] = [
      ...(state.history[key] ?? []),
      [point.timestamp, sum?.packetsPerSecond ?? 0] as [number, number],
    ].slice(-HISTORY_LENGTH);
  }
  return next;
}

/**
 * The state with the latest known points (read when the page loads, before any live one): a
 * sensor's point is taken unless the state has a newer one, and a cluster (or the fleet) without
 * a sparkline yet starts it with the sum of those points.
 */
export function seedLivePoints(state: LiveRatesState, points: readonly LivePoint[]): LiveRatesState {
  const latest = { ...state.latest };
  for (const point of points) {
    const known = latest[point.sensorId];
    if (!known || known.timestamp < point.timestamp) latest[point.sensorId] = point;
  }
  const next: LiveRatesState = { latest, history: { ...state.history } };
  const keys = new Set(["", ...points.map((point) => point.clusterId)]);
  for (const key of keys) {
    if ((next.history[key]?.length ?? 0) > 0) continue;
    const mine = points.filter((point) => key === "" || point.clusterId === key);
    if (mine.length === 0) continue;
    const at = Math.max(...mine.map((point) => point.timestamp));
    next.history[key] = [[at, sumRates(next, key === "" ? undefined : key, at)?.packetsPerSecond ?? 0]];
  }
  return next;
}
