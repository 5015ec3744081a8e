// Drift on the leader: one watch per sensor DaemonSet Tapfleet answers for
// (installed, adopted, or given a debug level), and a check of its cluster
// whenever the DaemonSet's spec changes (a new generation, a new uid, gone),
// whenever what Tapfleet expects changes, and at the start of each term. The
// list of targets is read again as soon as a change to it is announced (a
// sensor installed, adopted, released or uninstalled; a rollout's or a debug
// level's step; a cluster's connection saved, disabled or removed), and once a
// minute besides as a safety net, like the inventory's connection list.
// Checks of one cluster run one at a time; a burst of events makes one more.

import {
  CLUSTER_CONNECTIONS_TOPIC,
  connectDebugLevelCluster,
  checkSensorDrift,
  DEBUG_LEVEL_TOPIC,
  deleteSensorDriftExcept,
  isAppError,
  listDriftTargets,
  publishTopic,
  ROLLOUTS_TOPIC,
  SENSOR_DRIFT_TOPIC,
  subscribeTopic,
  TRACKED_DAEMONSETS_TOPIC,
  type Db,
  type DriftTarget,
  type LiveBus,
  type LiveTopic,
  type SecretBox,
} from "@tapfleet/core";
import { watchDaemonSet, type KubeDaemonSet } from "@tapfleet/kube";
import type { Logger } from "pino";
import type { z } from "zod";
import { systemClock, type Clock } from "./clock.ts";
import { runScope, type Controller } from "./controller.ts";

export interface SensorDriftControllerOptions {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  logger: Logger;
  /**
   * How often the targets are read again without being told of a change
   * (default 60 s): a safety net, since every change is announced.
   */
  reconcileIntervalMs?: number;
  /** A cluster whose check failed is checked again after this long (default 5 s). */
  retryMs?: number;
  clock?: Clock;
}

const targetKey = (target: { clusterId: string; namespace: string; name: string }) =>
  `${target.clusterId}/${target.namespace}/${target.name}`;

export function createSensorDriftController(options: SensorDriftControllerOptions): Controller {
  const { db, bus, secrets, logger } = options;
  const clock = options.clock ?? systemClock;
  const retryMs = options.retryMs ?? 5_000;
  return {
    name: "sensor-drift",
    runsOn: "leader",
    async run(signal) {
      /** Per target: its watch and the spec version last checked. */
      const watches = new Map<string, { stop(): Promise<void>; seen: string | null; connection: string }>();
      /** Per cluster: the expected state last checked, and the check chain. */
      const expectedSeen = new Map<string, string>();
      const running = new Map<string, { again: boolean; done: Promise<void> }>();
      // A wake while a reconcile runs makes the next one start at once.
      let wokenMeanwhile: boolean;
      const idle = () => {
        wokenMeanwhile = true;
      };
      let wakeReconcile: () => void = idle;

      const watched = (clusterId: string) =>
        [...watches.keys()].some((key) => key.startsWith(`${clusterId}/`));
      const check = (clusterId: string): void => {
        if (signal.aborted) return;
        const current = running.get(clusterId);
        if (current) {
          current.again = true;
          return;
        }
        const entry = { again: false, done: Promise.resolve() };
        running.set(clusterId, entry);
        entry.done = (async () => {
          do {
            entry.again = false;
            try {
              const kubeConfig = await connectDebugLevelCluster({ db, secrets, clusterId });
              // Aborted with the run: a stop does not wait for a cluster that answers slowly.
              await checkSensorDrift({ db, bus, kubeConfig, clusterId, now: new Date(clock.now()), signal });
            } catch (error) {
              if (signal.aborted) break;
              // A cluster removed (or no longer watched) has nothing left to check: asking again every
              // few seconds would only fill the log. Its verdicts go with the next reconcile, and a
              // connection saved again is announced.
              if (!watched(clusterId) || (isAppError(error) && error.code === "NOT_FOUND")) {
                logger.debug(
                  { clusterId },
                  "sensor drift: the cluster is no longer watched; not checked again",
                );
                break;
              }
              logger.warn({ err: error, clusterId }, "checking sensor drift failed");
              clock.setTimeout(() => {
                if (watched(clusterId)) check(clusterId);
              }, retryMs);
            }
          } while (entry.again && !signal.aborted);
          running.delete(clusterId);
        })();
      };

      const onChange = (key: string, clusterId: string) => (daemonSet: KubeDaemonSet | null) => {
        const watch = watches.get(key);
        // Status updates (pods becoming ready) do not change what is compared: the spec's generation does.
        const version = daemonSet === null ? "gone" : `${daemonSet.uid}/${daemonSet.generation}`;
        if (watch && watch.seen === version) return;
        if (watch) watch.seen = version;
        check(clusterId);
      };

      // Ended with the run, also when it fails (see runScope).
      const scope = runScope(signal);
      const wakers = [
        (async () => {
          for await (const message of subscribeTopic(bus, SENSOR_DRIFT_TOPIC, scope.signal))
            if (message.type === "check") check(message.clusterId);
        })(),
        // What is tracked, or what is expected of it, changed: read the targets again at once.
        ...[
          TRACKED_DAEMONSETS_TOPIC,
          // A debug level changes what OSSENSOR_DEBUG should be (and may start tracking a DaemonSet).
          DEBUG_LEVEL_TOPIC,
          // A rollout's step starts or ends a cluster's rollout, and its end changes the record.
          ROLLOUTS_TOPIC,
          // A connection saved, enabled, disabled or removed (with its cluster) starts or stops watches.
          CLUSTER_CONNECTIONS_TOPIC,
        ].map(async (topic: LiveTopic<z.ZodType>) => {
          for await (const _message of subscribeTopic(bus, topic, scope.signal)) wakeReconcile();
        }),
      ];

      const reconcile = async () => {
        const targets = await listDriftTargets({ db });
        const byCluster = new Map<string, DriftTarget[]>();
        for (const target of targets)
          byCluster.set(target.clusterId, [...(byCluster.get(target.clusterId) ?? []), target]);
        const connections = new Map(
          (
            await db.clusterConnection.findMany({
              where: { clusterId: { in: [...byCluster.keys()] }, enabled: true },
              select: { clusterId: true, updatedAt: true, context: true },
            })
          ).map((row) => [row.clusterId, `${row.context}@${row.updatedAt.toISOString()}`]),
        );
        const wanted = new Set<string>();
        for (const target of targets) {
          const connection = connections.get(target.clusterId);
          if (connection === undefined) continue;
          const key = targetKey(target);
          wanted.add(key);
          const existing = watches.get(key);
          if (existing && existing.connection === connection) continue;
          if (existing) await existing.stop();
          try {
            const kubeConfig = await connectDebugLevelCluster({ db, secrets, clusterId: target.clusterId });
            const informer = watchDaemonSet({
              kubeConfig,
              namespace: target.namespace,
              name: target.name,
              onChange: onChange(key, target.clusterId),
            });
            watches.set(key, { stop: () => informer.stop(), seen: null, connection });
            check(target.clusterId);
          } catch (error) {
            logger.warn(
              { err: error, clusterId: target.clusterId },
              "cannot watch the sensor DaemonSet for drift",
            );
          }
        }
        for (const [key, watch] of watches) {
          if (wanted.has(key)) continue;
          watches.delete(key);
          await watch.stop();
          check(key.split("/")[0]!);
        }
        for (const [clusterId, clusterTargets] of byCluster) {
          const expected = JSON.stringify(clusterTargets);
          if (expectedSeen.get(clusterId) === expected) continue;
          expectedSeen.set(clusterId, expected);
          if (connections.has(clusterId)) check(clusterId);
        }
        for (const clusterId of expectedSeen.keys())
          if (!byCluster.has(clusterId)) expectedSeen.delete(clusterId);
        for (const clusterId of await deleteSensorDriftExcept({ db, clusterIds: [...byCluster.keys()] }))
          await publishTopic(bus, SENSOR_DRIFT_TOPIC, { type: "verdicts", clusterId, drifts: [] });
      };

      try {
        while (!signal.aborted) {
          wokenMeanwhile = false;
          try {
            await reconcile();
          } catch (error) {
            if (signal.aborted) break;
            logger.warn({ err: error }, "reading the sensor DaemonSets to check for drift failed");
          }
          // A stop that came during the round ends the run now: an abort listener added
          // after the abort never fires, and the wait would last a whole interval.
          if (wokenMeanwhile || signal.aborted) continue;
          await new Promise<void>((resolve) => {
            const finish = () => {
              timer.cancel();
              signal.removeEventListener("abort", finish);
              wakeReconcile = idle;
              resolve();
            };
            const timer = clock.setTimeout(finish, options.reconcileIntervalMs ?? 60_000);
            wakeReconcile = finish;
            signal.addEventListener("abort", finish, { once: true });
          });
        }
      } finally {
        await Promise.all([...watches.values()].map((watch) => watch.stop()));
        watches.clear();
        await Promise.all([...running.values()].map((entry) => entry.done.catch(() => undefined)));
        scope.end();
        await Promise.all(wakers.map((waker) => waker.catch(() => undefined)));
      }
    },
  };
}
