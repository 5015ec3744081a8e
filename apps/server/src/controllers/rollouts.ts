// Rollouts on the leader: advances every active rollout (core/rollouts) as far
// as it can go, then sleeps until a request (the live topic), a gate's
// deadline, or — while a cluster is under way — an event of that cluster's
// watch (its DaemonSet or pods changed, the watch synced or lost the cluster)
// or a report of one of its agents. The clusters under way are seen through
// the inventory's watches (cluster-watches.ts): a gate waits without a single
// request to the cluster's API. All state is in the Rollout rows, so a new leader
// (after a restart or a SIGKILL) resumes each rollout where the last one
// stopped, and rolls back a cluster that was under way when its gate fails.

import {
  advanceRollout,
  listActiveRollouts,
  ROLLOUTS_TOPIC,
  subscribeTopic,
  type Db,
  type LiveBus,
  type SecretBox,
  STATS_TOPIC,
} from "@tapfleet/core";
import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.ts";
import type { ClusterWatches } from "./cluster-watches.ts";
import { runScope, type Controller } from "./controller.ts";

export interface RolloutsControllerOptions {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  logger: Logger;
  /** The leader's cluster watches; without them a cluster under way is read from its API every `pollMs`. */
  watches?: ClusterWatches;
  /** Without watches: how often a cluster under way is read again (default 1 s). */
  pollMs?: number;
  /**
   * With watches: how often a cluster under way is judged again with nothing
   * new (the time-bound checks, such as a report turning stale), from memory
   * and the database, never the cluster's API (default 10 s).
   */
  recheckMs?: number;
  /**
   * With watches: how long a burst of events settles before the look it
   * causes, also after a pass that events arrived during (default 250 ms):
   * thousands of pods changing make a look every 250 ms, not one per event.
   */
  settleMs?: number;
  /** A rollout whose step failed (an unreachable API) is tried again after this long (default 5 s). */
  retryMs?: number;
  clock?: Clock;
}

export function createRolloutsController(options: RolloutsControllerOptions): Controller {
  const { db, bus, secrets, logger } = options;
  const clock = options.clock ?? systemClock;
  const watches = options.watches;
  const pollMs = watches ? (options.recheckMs ?? 10_000) : (options.pollMs ?? 1_000);
  const settleMs = options.settleMs ?? 250;
  const retryMs = options.retryMs ?? 5_000;
  return {
    name: "rollouts",
    runsOn: "leader",
    async run(signal) {
      let wake: () => void = () => undefined;
      let woken = false;
      const poke = () => {
        woken = true;
        wake();
      };
      // The clusters under way, as the last pass found them: their news wakes the loop.
      let underWay = new Set<string>();
      let settling: { cancel(): void } | undefined;
      /** A pass is running, and whether news came meanwhile. */
      const pass = { running: false, news: false };
      const pokeSoon = () => {
        if (pass.running) {
          pass.news = true;
          return;
        }
        if (settling || signal.aborted) return;
        settling = clock.setTimeout(() => {
          settling = undefined;
          poke();
        }, settleMs);
      };
      // Ended with the run, also when it fails (see runScope).
      const scope = runScope(signal);
      const requests = (async () => {
        for await (const _message of subscribeTopic(bus, ROLLOUTS_TOPIC, scope.signal)) poke();
      })();
      const reports = watches
        ? (async () => {
            for await (const summary of subscribeTopic(bus, STATS_TOPIC, scope.signal))
              if (pass.running || underWay.has(summary.clusterId)) pokeSoon();
          })()
        : Promise.resolve();
      const stopHearing = watches?.subscribe((clusterId, event) => {
        // During a pass any cluster's news counts: one of them may have just been started.
        if (event.type !== "error" && (pass.running || underWay.has(clusterId))) pokeSoon();
      });
      // One client configuration per cluster for the whole term.
      const kubeConfigs: NonNullable<Parameters<typeof advanceRollout>[0]["kubeConfigs"]> = new Map();
      try {
        while (!signal.aborted) {
          woken = false;
          let nextAt = Number.POSITIVE_INFINITY;
          const seenUnderWay = new Set<string>();
          pass.running = true;
          pass.news = false;
          for (const rollout of await listActiveRollouts({ db })) {
            if (signal.aborted) break;
            try {
              const result = await advanceRollout({
                db,
                bus,
                secrets,
                rolloutId: rollout.id,
                now: () => new Date(clock.now()),
                kubeConfigs,
                ...(watches ? { watches: (clusterId: string) => watches.get(clusterId) } : {}),
              });
              for (const clusterId of result.clustersUnderWay) seenUnderWay.add(clusterId);
              if (result.until) nextAt = Math.min(nextAt, result.until.getTime());
              if (result.inFlight) nextAt = Math.min(nextAt, clock.now() + pollMs);
            } catch (error) {
              logger.warn({ err: error, rolloutId: rollout.id }, "rollout step failed");
              nextAt = Math.min(nextAt, clock.now() + retryMs);
            }
          }
          underWay = seenUnderWay;
          pass.running = false;
          // What the watches said meanwhile is looked at after the settling time, not at once.
          if (pass.news) nextAt = Math.min(nextAt, clock.now() + settleMs);
          // Our own writes publish on the topic too: one more pass, which finds nothing new and writes nothing.
          if (signal.aborted) continue;
          await new Promise<void>((resolve) => {
            let timer: { cancel(): void } | undefined;
            const done = () => {
              timer?.cancel();
              signal.removeEventListener("abort", done);
              resolve();
            };
            if (woken) return done();
            if (Number.isFinite(nextAt)) timer = clock.setTimeout(done, Math.max(0, nextAt - clock.now()));
            wake = done;
            signal.addEventListener("abort", done, { once: true });
          });
          wake = () => undefined;
        }
      } finally {
        stopHearing?.();
        settling?.cancel();
        scope.end();
        await requests.catch(() => undefined);
        await reports.catch(() => undefined);
      }
    },
  };
}
