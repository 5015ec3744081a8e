import { describe, expect, it } from "vitest";
import { createBackoff } from "./backoff.ts";

describe("createBackoff", () => {
  it("doubles up to the cap, between half and all of each step", () => {
    const low = createBackoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    expect(Array.from({ length: 6 }, () => low.next())).toEqual([50, 100, 200, 400, 500, 500]);
    const high = createBackoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999999 });
    const delays = Array.from({ length: 6 }, () => Math.round(high.next()));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it("starts over after a reset", () => {
    const backoff = createBackoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    backoff.next();
    backoff.next();
    expect(backoff.failures).toBe(2);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.next()).toBe(50);
  });

  it("waits at least as long as the server's Retry-After", () => {
    const backoff = createBackoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    expect(backoff.next(3_000)).toBe(3_000);
    expect(backoff.next(10)).toBe(100);
  });

  it("refuses settings that make no sense, naming the setting", () => {
    expect(() => createBackoff({ initialMs: 0 })).toThrow(/initialMs/);
    expect(() => createBackoff({ initialMs: 100, maxMs: 50 })).toThrow(/maxMs/);
    expect(() => createBackoff({ factor: 0.5 })).toThrow(/factor/);
  });
});
