// A controller is the server's background work behind one small interface:
// a name, where it runs, and run(signal), which works until the signal aborts.

import { delay, systemClock, type Clock } from "./clock.ts";

/**
 * `every-replica`: work local to one replica (a cache refresh).
 * `leader`: work that must run once however many replicas there are (purges,
 * partition maintenance); it runs on the replica holding the leader lock.
 */
export type ControllerScope = "every-replica" | "leader";

export interface Controller {
  readonly name: string;
  readonly runsOn: ControllerScope;
  /**
   * Works until `signal` aborts, then returns promptly. Throwing (or returning
   * before the abort) counts as a failure: the runner logs it and starts the
   * controller again after a capped backoff.
   */
  run(signal: AbortSignal): Promise<void>;
}

/**
 * The signal for what one run() starts beside its loop (its topic
 * subscriptions): aborted with the run's `signal`, and by `end()`, which the
 * run calls in its `finally` before waiting for them. A run that fails must
 * return so that the runner logs the error and starts it again; waiting in its
 * `finally` for subscriptions that end only with the leadership term would
 * leave the controller stopped (and, for the inventory, every cluster
 * unwatched) for the rest of the term, without a word in the log.
 */
export function runScope(signal: AbortSignal): { signal: AbortSignal; end(): void } {
  const scope = new AbortController();
  const end = () => {
    signal.removeEventListener("abort", end);
    scope.abort();
  };
  if (signal.aborted) scope.abort();
  else signal.addEventListener("abort", end, { once: true });
  return { signal: scope.signal, end };
}

/**
 * A controller that calls `tick` every `intervalMs`. A leader's controller
 * ticks once as soon as it runs, at the start of each leadership term, so a
 * replica that takes over does not wait a whole interval (an hour, for the
 * report partitions) for work the previous leader may have left undone; an
 * every-replica controller first ticks after one interval, its start-up work
 * being the server's own. A failed tick is reported through `onError` and the
 * next one comes on time, as a timer would.
 */
export function createPeriodicController(options: {
  name: string;
  runsOn: ControllerScope;
  intervalMs: number;
  tick: (signal: AbortSignal) => Promise<void>;
  onError: (error: unknown) => void;
  clock?: Clock;
}): Controller {
  const clock = options.clock ?? systemClock;
  return {
    name: options.name,
    runsOn: options.runsOn,
    async run(signal) {
      let waitMs = options.runsOn === "leader" ? 0 : options.intervalMs;
      for (;;) {
        if (waitMs > 0) await delay(clock, waitMs, signal);
        if (signal.aborted) return;
        try {
          await options.tick(signal);
        } catch (error) {
          if (signal.aborted) return;
          options.onError(error);
        }
        waitMs = options.intervalMs;
      }
    },
  };
}
