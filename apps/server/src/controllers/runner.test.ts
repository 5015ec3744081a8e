import { describe, expect, it } from "vitest";
import { createManualClock } from "../../../../packages/kube-sim/src/manual-clock.ts";
import { createPeriodicController, type Controller, type ControllerScope } from "./controller.ts";
import { startControllers, type ControllerLog, type Leadership } from "./runner.ts";

/** Lets promise callbacks run; the manual clock fires timers synchronously. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function leadershipSwitch(initial: boolean): Leadership & { set(leader: boolean): void } {
  let leader = initial;
  const listeners = new Set<(leader: boolean) => void>();
  return {
    isLeader: () => leader,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(value) {
      leader = value;
      for (const listener of listeners) listener(value);
    },
  };
}

function recordingLog(): ControllerLog & { errors: { controller: string; restartInMs: number }[] } {
  const errors: { controller: string; restartInMs: number }[] = [];
  return {
    errors,
    info: () => undefined,
    error: (details) => errors.push(details as { controller: string; restartInMs: number }),
  };
}

/** A controller that works until aborted, counting its starts and ends. */
function workUntilAborted(name: string, runsOn: ControllerScope) {
  const counts = { started: 0, ended: 0, signals: [] as AbortSignal[] };
  const controller: Controller = {
    name,
    runsOn,
    run: (signal) =>
      new Promise<void>((resolve) => {
        counts.started++;
        counts.signals.push(signal);
        signal.addEventListener("abort", () => {
          counts.ended++;
          resolve();
        });
      }),
  };
  return { controller, counts };
}

describe("controller runner", () => {
  it("runs every replica's controllers always and the leader's only while leader", async () => {
    const clock = createManualClock();
    const leadership = leadershipSwitch(false);
    const local = workUntilAborted("cache", "every-replica");
    const once = workUntilAborted("purge", "leader");
    const runner = startControllers({
      controllers: [local.controller, once.controller],
      leadership,
      log: recordingLog(),
      clock,
    });
    await settle();
    expect(runner.running()).toEqual(["cache"]);
    expect(once.counts.started).toBe(0);

    leadership.set(true);
    await settle();
    expect(runner.running()).toEqual(["cache", "purge"]);

    // Stepping down aborts the leader's controllers at once, not at the next tick.
    leadership.set(false);
    expect(once.counts.signals[0]!.aborted).toBe(true);
    await settle();
    expect(runner.running()).toEqual(["cache"]);
    expect(local.counts.signals[0]!.aborted).toBe(false);

    leadership.set(true);
    await settle();
    expect(once.counts.started).toBe(2);

    await runner.stop();
    expect(runner.running()).toEqual([]);
    expect(local.counts.ended).toBe(1);
    expect(once.counts.ended).toBe(2);
  });

  it("starts a new term only after the previous term's run has returned", async () => {
    const clock = createManualClock();
    const leadership = leadershipSwitch(true);
    let concurrent = 0;
    let most = 0;
    let finishSlowly: (() => void) | undefined;
    const slow: Controller = {
      name: "slow",
      runsOn: "leader",
      run: async (signal) => {
        concurrent++;
        most = Math.max(most, concurrent);
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
        // Finishing its last write after the abort.
        await new Promise<void>((resolve) => (finishSlowly = resolve));
        concurrent--;
      },
    };
    const runner = startControllers({ controllers: [slow], leadership, log: recordingLog(), clock });
    await settle();
    leadership.set(false);
    leadership.set(true);
    await settle();
    expect(concurrent).toBe(1);
    finishSlowly!();
    await settle();
    expect(concurrent).toBe(1);
    expect(most).toBe(1);
    const stopped = runner.stop();
    await settle();
    finishSlowly!();
    await stopped;
    expect(concurrent).toBe(0);
  });

  it("logs a failing controller and restarts it with capped, doubling backoff", async () => {
    const clock = createManualClock();
    const log = recordingLog();
    let starts = 0;
    const failing: Controller = {
      name: "flaky",
      runsOn: "every-replica",
      run: () => {
        starts++;
        return Promise.reject(new Error("watch broke"));
      },
    };
    const runner = startControllers({
      controllers: [failing],
      leadership: leadershipSwitch(false),
      log,
      clock,
      backoff: { initialMs: 1000, maxMs: 4000 },
    });
    await settle();
    expect(starts).toBe(1);
    for (const wait of [1000, 2000, 4000, 4000]) {
      expect(log.errors.at(-1)).toMatchObject({ controller: "flaky", restartInMs: wait });
      clock.advance(wait - 1);
      await settle();
      const before = starts;
      clock.advance(1);
      await settle();
      expect(starts).toBe(before + 1);
    }
    await runner.stop();
    // Stopped while waiting to restart: no further start.
    clock.advance(60_000);
    await settle();
    expect(starts).toBe(5);
  });

  it("counts a run() that returns before it was stopped as a failure", async () => {
    const clock = createManualClock();
    const log = recordingLog();
    const quitter: Controller = { name: "quitter", runsOn: "leader", run: () => Promise.resolve() };
    const runner = startControllers({
      controllers: [quitter],
      leadership: leadershipSwitch(true),
      log,
      clock,
    });
    await settle();
    expect(log.errors).toEqual([expect.objectContaining({ controller: "quitter", restartInMs: 1000 })]);
    await runner.stop();
  });

  it("refuses two controllers of one name", () => {
    const a = workUntilAborted("same", "leader").controller;
    expect(() =>
      startControllers({ controllers: [a, a], leadership: leadershipSwitch(false), log: recordingLog() }),
    ).toThrow(/two controllers are named same/);
  });
});

describe("periodic controller", () => {
  it("ticks at once, then every interval, reports a failed tick and keeps its pace, and stops at once on abort", async () => {
    const clock = createManualClock();
    const ticks: number[] = [];
    const failures: unknown[] = [];
    const controller = createPeriodicController({
      name: "purge",
      runsOn: "leader",
      intervalMs: 30_000,
      clock,
      tick: () => {
        ticks.push(clock.now());
        return ticks.length === 2 ? Promise.reject(new Error("database away")) : Promise.resolve();
      },
      onError: (error) => failures.push(error),
    });
    const abort = new AbortController();
    const start = clock.now();
    let returned = false;
    const running = controller.run(abort.signal).then(() => (returned = true));
    await settle();
    expect(ticks).toEqual([start]);
    for (let i = 0; i < 3; i++) {
      clock.advance(30_000);
      await settle();
    }
    expect(ticks).toEqual([start, start + 30_000, start + 60_000, start + 90_000]);
    expect(failures).toEqual([new Error("database away")]);

    clock.advance(10_000);
    abort.abort();
    await running;
    expect(returned).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it("runs a leader's work at the start of each term, not one interval later", async () => {
    const clock = createManualClock();
    const leadership = leadershipSwitch(false);
    const ticks: { scope: ControllerScope; at: number }[] = [];
    const periodic = (scope: ControllerScope) =>
      createPeriodicController({
        name: `maintenance-${scope}`,
        runsOn: scope,
        intervalMs: 3600_000,
        clock,
        tick: () => {
          ticks.push({ scope, at: clock.now() });
          return Promise.resolve();
        },
        onError: (error) => {
          throw error;
        },
      });
    const runner = startControllers({
      controllers: [periodic("leader"), periodic("every-replica")],
      leadership,
      log: recordingLog(),
      clock,
    });
    const start = clock.now();
    await settle();
    expect(ticks).toEqual([]);

    // Taking over: the leader's maintenance runs at once, then hourly.
    clock.advance(60_000);
    leadership.set(true);
    await settle();
    expect(ticks).toEqual([{ scope: "leader", at: start + 60_000 }]);
    clock.advance(3600_000);
    await settle();
    expect(ticks.filter((t) => t.scope === "leader").map((t) => t.at)).toEqual([
      start + 60_000,
      start + 3660_000,
    ]);
    // The every-replica controller keeps its own pace: nothing at start, once after an interval.
    expect(ticks.filter((t) => t.scope === "every-replica")).toHaveLength(1);

    // A new term, half an hour after losing the lock: at once again.
    leadership.set(false);
    await settle();
    clock.advance(1800_000);
    leadership.set(true);
    await settle();
    expect(ticks.filter((t) => t.scope === "leader").map((t) => t.at)).toEqual([
      start + 60_000,
      start + 3660_000,
      start + 5460_000,
    ]);
    await runner.stop();
  });
});
