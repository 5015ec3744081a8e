// Runs the server's controllers: those of every replica from start to stop,
// the leader's only while this replica holds the leader lock. A controller
// that fails is logged and started again after a capped backoff; it never
// takes the server down.

import { setMaxListeners } from "node:events";
import { delay, systemClock, type Clock } from "./clock.ts";
import type { Controller } from "./controller.ts";

/** What the runner needs of the leader lock. */
export interface Leadership {
  isLeader(): boolean;
  onChange(listener: (leader: boolean) => void): () => void;
}

export interface ControllerLog {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface ControllerRunner {
  /** Names of the controllers whose run() is under way. */
  running(): string[];
  /** Aborts every controller and waits for each run() to return. */
  stop(): Promise<void>;
}

export interface RunnerBackoff {
  /** Wait after the first failure; doubles with each failure in a row. Default 1 s. */
  initialMs: number;
  /** The cap; a run that lasted this long resets the count. Default 60 s. */
  maxMs: number;
}

export function startControllers(options: {
  controllers: readonly Controller[];
  leadership: Leadership;
  log: ControllerLog;
  clock?: Clock;
  backoff?: RunnerBackoff;
}): ControllerRunner {
  const clock = options.clock ?? systemClock;
  const backoff = options.backoff ?? { initialMs: 1000, maxMs: 60_000 };
  const { log } = options;
  const running = new Set<string>();
  const names = new Set<string>();
  for (const controller of options.controllers) {
    if (names.has(controller.name)) throw new Error(`two controllers are named ${controller.name}`);
    names.add(controller.name);
  }

  /** Runs one controller until `signal` aborts, restarting it after failures. */
  const supervise = async (controller: Controller, signal: AbortSignal): Promise<void> => {
    let failures = 0;
    while (!signal.aborted) {
      const startedAt = clock.now();
      running.add(controller.name);
      let failure: unknown;
      try {
        await controller.run(signal);
        if (!signal.aborted) failure = new Error("run() returned before it was stopped");
      } catch (error) {
        if (!signal.aborted) failure = error;
      } finally {
        running.delete(controller.name);
      }
      if (signal.aborted) return;
      failures = clock.now() - startedAt >= backoff.maxMs ? 1 : failures + 1;
      const waitMs = Math.min(backoff.initialMs * 2 ** (failures - 1), backoff.maxMs);
      log.error({ err: failure, controller: controller.name, restartInMs: waitMs }, "controller failed");
      await delay(clock, waitMs, signal);
    }
  };

  const superviseAll = (controllers: readonly Controller[], signal: AbortSignal) =>
    Promise.all(controllers.map((controller) => supervise(controller, signal))).then(() => undefined);

  // Every replica's controllers: from now until stop.
  const everywhere = new AbortController();
  const everywhereDone = superviseAll(
    options.controllers.filter((controller) => controller.runsOn === "every-replica"),
    everywhere.signal,
  );

  // The leader's controllers: one term per leadership. A new term starts only
  // after the previous one's runs have returned, so they never overlap.
  const leaderControllers = options.controllers.filter((controller) => controller.runsOn === "leader");
  let term: { abort: AbortController; done: Promise<void> } | undefined;
  let stopped = false;
  const onLeadership = (leader: boolean) => {
    if (stopped) return;
    if (!leader) {
      if (term && !term.abort.signal.aborted) {
        term.abort.abort();
        log.info(
          { controllers: leaderControllers.map((c) => c.name) },
          "not the leader: stopping controllers",
        );
      }
      return;
    }
    if (term && !term.abort.signal.aborted) return;
    const previous = term?.done ?? Promise.resolve();
    const abort = new AbortController();
    // Each controller listens to the term's signal a few times (its waits, its subscriptions):
    // that many listeners are expected, not a leak.
    setMaxListeners(Math.max(10, leaderControllers.length * 4), abort.signal);
    log.info({ controllers: leaderControllers.map((c) => c.name) }, "leader: starting controllers");
    term = {
      abort,
      done: previous.then(() =>
        abort.signal.aborted ? undefined : superviseAll(leaderControllers, abort.signal),
      ),
    };
  };
  const unsubscribe = options.leadership.onChange(onLeadership);
  if (options.leadership.isLeader()) onLeadership(true);

  return {
    running: () => [...running].sort(),
    async stop() {
      stopped = true;
      unsubscribe();
      everywhere.abort();
      term?.abort.abort();
      await Promise.all([everywhereDone, term?.done]);
    },
  };
}
