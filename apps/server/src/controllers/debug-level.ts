// Time-boxed debug levels on the leader: applies each requested level, follows
// its rollout, and puts the previous value back when the time is up. All state
// is in the DebugLevel rows (core/debug-level), so a new leader (after a
// restart or a SIGKILL) picks up where the last one stopped and still reverts
// on time. It wakes on a request (the live topic), on a change of a DaemonSet
// it follows (a watch, while a rollout is under way) and at the earliest
// revert time; a cluster that cannot be reached is tried again after a pause.

import {
  advanceDebugLevel,
  DEBUG_LEVEL_TOPIC,
  listPendingDebugLevels,
  openClusterConnection,
  subscribeTopic,
  type Db,
  type LiveBus,
  type SecretBox,
} from "@tapfleet/core";
import { loadKubeConfig, watchDaemonSet } from "@tapfleet/kube";
import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.ts";
import { runScope, type Controller } from "./controller.ts";

export interface DebugLevelControllerOptions {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  logger: Logger;
  /** A cluster whose step failed (unreachable API) is tried again after this long (default 5 s). */
  retryMs?: number;
  clock?: Clock;
}

export function createDebugLevelController(options: DebugLevelControllerOptions): Controller {
  const { db, bus, secrets, logger } = options;
  const clock = options.clock ?? systemClock;
  const retryMs = options.retryMs ?? 5_000;
  return {
    name: "debug-level",
    runsOn: "leader",
    async run(signal) {
      let wake: () => void = () => undefined;
      let woken: boolean;
      const poke = () => {
        woken = true;
        wake();
      };
      // Ended with the run, also when it fails (see runScope).
      const scope = runScope(signal);
      const requests = (async () => {
        for await (const _message of subscribeTopic(bus, DEBUG_LEVEL_TOPIC, scope.signal)) poke();
      })();
      // The DaemonSets under a rollout, followed by a watch each (key: cluster/namespace/name).
      const watches = new Map<string, { stop(): Promise<void> }>();

      try {
        while (!signal.aborted) {
          woken = false;
          let nextAt = Number.POSITIVE_INFINITY;
          const rollingKeys = new Set<string>();
          for (const pending of await listPendingDebugLevels({ db })) {
            if (signal.aborted) break;
            const key = `${pending.clusterId}/${pending.namespace}/${pending.daemonSetName}`;
            try {
              const result = await advanceDebugLevel({
                db,
                bus,
                secrets,
                clusterId: pending.clusterId,
                now: () => new Date(clock.now()),
              });
              if (result.until) nextAt = Math.min(nextAt, result.until.getTime());
              if (result.pending && result.rolling) {
                rollingKeys.add(key);
                if (!watches.has(key)) {
                  const { kubeconfig } = await openClusterConnection({
                    db,
                    secrets,
                    clusterId: pending.clusterId,
                  });
                  const watch = watchDaemonSet({
                    kubeConfig: loadKubeConfig(kubeconfig),
                    namespace: pending.namespace,
                    name: pending.daemonSetName,
                    onChange: poke,
                  });
                  watches.set(key, watch);
                }
              }
            } catch (error) {
              logger.warn({ err: error, clusterId: pending.clusterId }, "debug level step failed");
              nextAt = Math.min(nextAt, clock.now() + retryMs);
            }
          }
          for (const [key, watch] of watches) {
            if (rollingKeys.has(key)) continue;
            watches.delete(key);
            await watch.stop();
          }
          if (woken || signal.aborted) continue;
          await new Promise<void>((resolve) => {
            let timer: { cancel(): void } | undefined;
            const done = () => {
              timer?.cancel();
              signal.removeEventListener("abort", done);
              resolve();
            };
            if (Number.isFinite(nextAt)) timer = clock.setTimeout(done, Math.max(0, nextAt - clock.now()));
            wake = done;
            signal.addEventListener("abort", done, { once: true });
          });
          wake = () => undefined;
        }
      } finally {
        await Promise.all([...watches.values()].map((watch) => watch.stop()));
        watches.clear();
        scope.end();
        await requests.catch(() => undefined);
      }
    },
  };
}
