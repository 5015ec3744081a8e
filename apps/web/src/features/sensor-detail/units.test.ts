import { describe, expect, it } from "vitest";
import { formatRate, latestValue } from "./units";

describe("formatRate", () => {
  it.each([
    [0, "pkt/s", "0 pkt/s"],
    [0.5, "pkt/s", "0.5 pkt/s"],
    [340, "pkt/s", "340 pkt/s"],
    [1250, "pkt/s", "1.25 kpkt/s"],
    [1_250_000, "bit/s", "1.25 Mbit/s"],
    [12_345_678_901, "bit/s", "12.3 Gbit/s"],
    [999_999, "bit/s", "1000 kbit/s"],
    [null, "bit/s", "–"],
  ] as const)("%s %s → %s", (value, unit, expected) => {
    expect(formatRate(value, unit)).toBe(expected);
  });
});

describe("latestValue", () => {
  it.each([
    [[1, 2, 3], 3],
    [[1, 2, null], 2],
    [[0, null, null], 0],
    [[null, null], null],
    [[], null],
    [undefined, null],
  ] as const)("%j → %s", (values, expected) => {
    expect(latestValue(values)).toBe(expected);
  });
});
