// Rollouts on the leader: advances every active rollout (core/rollouts) as far
// as it can go, then sleeps until a request (the live topic), a gate's
// deadline, or — while a cluster is under way — the next look at its pods and
// the agents' reports. All state is in the Rollout rows, so a new leader
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
} from "@tapfleet/core";
import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.ts";
import type { Controller } from "./controller.ts";

export interface RolloutsControllerOptions {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  logger: Logger;
  /** How often a cluster under way is looked at again (default 1 s). */
  pollMs?: number;
  /** A rollout whose step failed (an unreachable API) is tried again after this long (default 5 s). */
  retryMs?: number;
  clock?: Clock;
}

export function createRolloutsController(options: RolloutsControllerOptions): Controller {
  const { db, bus, secrets, logger } = options;
  const clock = options.clock ?? systemClock;
  const pollMs = options.pollMs ?? 1_000;
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
      const requests = (async () => {
        for await (const _message of subscribeTopic(bus, ROLLOUTS_TOPIC, signal)) poke();
      })();
      // One client configuration per cluster for the whole term.
      const kubeConfigs: NonNullable<Parameters<typeof advanceRollout>[0]["kubeConfigs"]> = new Map();
      try {
        while (!signal.aborted) {
          woken = false;
          let nextAt = Number.POSITIVE_INFINITY;
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
              });
              if (result.until) nextAt = Math.min(nextAt, result.until.getTime());
              if (result.inFlight) nextAt = Math.min(nextAt, clock.now() + pollMs);
            } catch (error) {
              logger.warn({ err: error, rolloutId: rollout.id }, "rollout step failed");
              nextAt = Math.min(nextAt, clock.now() + retryMs);
            }
          }
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
        await requests.catch(() => undefined);
      }
    },
  };
}
