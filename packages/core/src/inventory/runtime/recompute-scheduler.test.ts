import { ManualClock } from "@tapfleet/kube";
import { describe, expect, it } from "vitest";
import { createRecomputeScheduler } from "./recompute-scheduler.ts";

/** Lets a run's promise settle. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup() {
  const clock = new ManualClock(1_000_000);
  const runs: number[] = [];
  const errors: unknown[] = [];
  const scheduler = createRecomputeScheduler({
    clock,
    debounceMs: 200,
    minIntervalMs: 500,
    run: () => {
      runs.push(clock.now());
      return Promise.resolve();
    },
    onError: (error) => errors.push(error),
  });
  return { clock, runs, errors, scheduler, start: clock.now() };
}

describe("recompute scheduler", () => {
  it("runs once for a burst of changes, at most debounceMs after the first", async () => {
    const { clock, runs, scheduler, start } = setup();
    scheduler.markDirty();
    await clock.advance(150);
    scheduler.markDirty();
    scheduler.markDirty();
    await clock.advance(49);
    expect(runs).toEqual([]);
    await clock.advance(1);
    await settle();
    expect(runs).toEqual([start + 200]);
    await clock.advance(10_000);
    expect(runs).toHaveLength(1);
  });

  it("keeps minIntervalMs between the starts of two runs", async () => {
    const { clock, runs, scheduler, start } = setup();
    scheduler.markDirty();
    await clock.advance(200);
    await settle();
    scheduler.markDirty();
    await clock.advance(200);
    await settle();
    expect(runs).toEqual([start + 200]);
    await clock.advance(299);
    await settle();
    expect(runs).toHaveLength(1);
    await clock.advance(1);
    await settle();
    expect(runs).toEqual([start + 200, start + 700]);
  });

  it("wakes at a verdict's changesAt without any change, and the latest wake-up replaces the earlier", async () => {
    const { clock, runs, scheduler, start } = setup();
    scheduler.wakeAt(start + 30_000);
    scheduler.wakeAt(start + 10_000);
    await clock.advance(9_999);
    await settle();
    expect(runs).toEqual([]);
    await clock.advance(1);
    await settle();
    expect(runs).toEqual([start + 10_000]);
    await clock.advance(60_000);
    expect(runs).toHaveLength(1);
    scheduler.wakeAt(null);
    scheduler.markDirty();
    await clock.advance(200);
    await settle();
    expect(runs).toHaveLength(2);
  });

  it("never overlaps runs: a change during a run is handled after it", async () => {
    const clock = new ManualClock(0);
    let finish: (() => void) | undefined;
    let running = 0;
    let most = 0;
    let count = 0;
    const scheduler = createRecomputeScheduler({
      clock,
      run: () =>
        new Promise<void>((resolve) => {
          count++;
          running++;
          most = Math.max(most, running);
          finish = () => {
            running--;
            resolve();
          };
        }),
      onError: () => undefined,
    });
    scheduler.markDirty();
    await clock.advance(200);
    scheduler.markDirty();
    await clock.advance(5_000);
    expect(count).toBe(1);
    finish!();
    await settle();
    await clock.advance(0);
    expect(count).toBe(2);
    expect(most).toBe(1);
    finish!();
    await settle();
  });

  it("reports a failed run and runs again on the next change; nothing runs after stop", async () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    let count = 0;
    const scheduler = createRecomputeScheduler({
      clock,
      run: () => {
        count++;
        return Promise.reject(new Error("database away"));
      },
      onError: (error) => errors.push(error),
    });
    scheduler.markDirty();
    await clock.advance(200);
    await settle();
    expect(errors).toEqual([new Error("database away")]);
    scheduler.markDirty();
    await clock.advance(500);
    await settle();
    expect(count).toBe(2);
    scheduler.markDirty();
    scheduler.stop();
    await clock.advance(10_000);
    expect(count).toBe(2);
    expect(clock.pending).toBe(0);
  });

  it("tries a failed run again after retryMs without any change", async () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    const runs: number[] = [];
    const scheduler = createRecomputeScheduler({
      clock,
      debounceMs: 200,
      retryMs: 2_000,
      run: () => {
        runs.push(clock.now());
        return runs.length === 1 ? Promise.reject(new Error("no connection in time")) : Promise.resolve();
      },
      onError: (error) => errors.push(error),
    });
    scheduler.markDirty();
    await clock.advance(200);
    await settle();
    expect(errors).toEqual([new Error("no connection in time")]);
    await clock.advance(1_999);
    await settle();
    expect(runs).toEqual([200]);
    await clock.advance(1);
    await settle();
    expect(runs).toEqual([200, 2_200]);
    // A run that succeeds is not repeated.
    await clock.advance(60_000);
    expect(runs).toHaveLength(2);
    scheduler.stop();
  });
});
