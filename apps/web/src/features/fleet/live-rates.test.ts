import { describe, expect, it } from "vitest";
import {
  addLivePoint,
  EMPTY_LIVE_RATES,
  HISTORY_LENGTH,
  seedLivePoints,
  sumRates,
  type LivePoint,
} from "./live-rates";

function point(sensorId: string, clusterId: string, timestamp: number, pps: number, drops = 0): LivePoint {
  return {
    sensorId,
    clusterId,
    nodeName: `node-${sensorId}`,
    timestamp,
    seconds: 10,
    reportIntervalSeconds: 10,
    interfaces: [{ packetsPerSecond: pps, bitsPerSecond: pps * 8000, dropsPerSecond: drops }],
  };
}

describe("live rates", () => {
  it("sums the latest point of each sensor per cluster and for the fleet", () => {
    let state = EMPTY_LIVE_RATES;
    state = addLivePoint(state, point("a", "eu", 100, 300, 0));
    state = addLivePoint(state, point("b", "eu", 101, 100, 100));
    state = addLivePoint(state, point("c", "us", 102, 50));
    state = addLivePoint(state, point("a", "eu", 110, 500));
    expect(sumRates(state, "eu", 110)).toEqual({
      packetsPerSecond: 600,
      bitsPerSecond: 4_800_000,
      dropsPerSecond: 100,
      dropPercent: (100 / 700) * 100,
    });
    expect(sumRates(state, undefined, 110)?.packetsPerSecond).toBe(650);
    expect(state.history.eu).toEqual([
      [100, 300],
      [101, 400],
      [110, 600],
    ]);
    expect(state.history[""]?.at(-1)).toEqual([110, 650]);
  });

  it("ignores an older point of a sensor, and forgets points older than three intervals", () => {
    let state = addLivePoint(EMPTY_LIVE_RATES, point("a", "eu", 100, 300));
    expect(addLivePoint(state, point("a", "eu", 90, 1))).toBe(state);
    expect(sumRates(state, "eu", 130)?.packetsPerSecond).toBe(300);
    expect(sumRates(state, "eu", 131)).toBeNull();
    expect(sumRates(state, "us", 100)).toBeNull();
    state = addLivePoint(state, point("b", "eu", 101, 0));
    expect(sumRates(state, "eu", 101)?.dropPercent).toBe(0);
    expect(sumRates(addLivePoint(EMPTY_LIVE_RATES, point("z", "x", 1, 0)), "x", 1)?.dropPercent).toBeNull();
  });

  it("keeps a bounded history", () => {
    let state = EMPTY_LIVE_RATES;
    for (let t = 1; t <= HISTORY_LENGTH + 5; t++) state = addLivePoint(state, point("a", "eu", t, t));
    expect(state.history.eu).toHaveLength(HISTORY_LENGTH);
    expect(state.history.eu?.[0]).toEqual([6, 6]);
  });
});

describe("seedLivePoints", () => {
  it("gives the page its rates from the stored points, before any live one arrives", () => {
    const state = seedLivePoints(EMPTY_LIVE_RATES, [point("a", "eu", 100, 300), point("b", "us", 104, 50)]);
    expect(sumRates(state, "eu", 105)?.packetsPerSecond).toBe(300);
    expect(sumRates(state, undefined, 105)?.packetsPerSecond).toBe(350);
    expect(state.history).toEqual({ "": [[104, 350]], eu: [[100, 300]], us: [[104, 50]] });
  });

  it("keeps a live point newer than the stored one, and the sparkline the live points began", () => {
    const live = addLivePoint(EMPTY_LIVE_RATES, point("a", "eu", 110, 500));
    const state = seedLivePoints(live, [point("a", "eu", 100, 300), point("b", "eu", 104, 50)]);
    expect(state.latest.a?.timestamp).toBe(110);
    expect(state.latest.b?.timestamp).toBe(104);
    expect(sumRates(state, "eu", 111)?.packetsPerSecond).toBe(550);
    expect(state.history.eu).toEqual(live.history.eu);
  });
});
