// The fleet inventory at run time, on the leader: one cluster watch per
// enabled connection, each feeding its persisted coverage and the live topic
// (core/inventory/runtime). The connection list is reconciled as soon as a
// connection is saved, enabled, disabled or removed (the cluster-connections
// topic), and once a minute besides as a safety net; the agents' reports
// arrive from the live stats topic. See docs/adr/0011.

import {
  CLUSTER_CONNECTIONS_TOPIC,
  deleteInventoryExcept,
  INVENTORY_TOPIC,
  markInventoryStale,
  publishTopicMany,
  startClusterInventory,
  STATS_TOPIC,
  subscribeTopic,
  type ClusterConnection,
  type ClusterConnectionSource,
  type ClusterInventoryRuntime,
  type ClusterStatus,
  type ClusterWatchOptions,
  type Db,
  type LiveBus,
} from "@tapfleet/core";
import type { PgPool } from "@tapfleet/db";
import { createHash } from "node:crypto";
import pLimit from "p-limit";
import type { Logger } from "pino";
import { delay, systemClock, type Clock } from "./clock.ts";
import type { ClusterWatches } from "./cluster-watches.ts";
import { runScope, type Controller } from "./controller.ts";

/** How many clusters' lists (all their pages) the inventory reads at once. */
export const LIST_CONCURRENCY = 4;

export interface InventoryControllerOptions {
  db: Db;
  /** The connections the inventory's batches are written through. */
  pool: PgPool;
  bus: LiveBus;
  connections: ClusterConnectionSource;
  logger: Logger;
  /**
   * How often the connection list is read again without being told of a
   * change (default 60 s): a safety net, since every change is announced.
   */
  reconcileIntervalMs?: number;
  /** Overrides for each cluster watch (tests shorten the probes). */
  watch?: Partial<Omit<ClusterWatchOptions, "kubeConfig" | "clusterId" | "clock">>;
  /** Stores a cluster's runtime status with its connection, where the connection store offers it. */
  recordConnectionStatus?: (options: { clusterId: string; status: ClusterStatus }) => Promise<void>;
  /** Where each cluster's watch is shared with the other leader controllers (rollouts). */
  watches?: ClusterWatches;
  clock?: Clock;
}

/** What identifies a connection's content without keeping its credentials around in clear. */
const fingerprint = (connection: ClusterConnection): string =>
  createHash("sha256")
    .update(connection.context)
    .update("\u0000")
    .update(connection.kubeconfig)
    .digest("hex");

export function createInventoryController(options: InventoryControllerOptions): Controller {
  const { db, bus, logger } = options;
  const clock = options.clock ?? systemClock;
  return {
    name: "inventory",
    runsOn: "leader",
    async run(signal) {
      // Until each watch has listed its cluster again, what the last term wrote is stale.
      await markInventoryStale({ db });
      const runtimes = new Map<
        string,
        { fingerprint: string; runtime: ClusterInventoryRuntime; unshare: () => void }
      >();

      // A change of a connection wakes the reconciliation at once; one that
      // arrives while a round runs makes another round follow it.
      let changed = false;
      let wake = new AbortController();
      // Ended with the run, also when a round fails (see runScope).
      const scope = runScope(signal);
      const changes = (async () => {
        for await (const change of subscribeTopic(bus, CLUSTER_CONNECTIONS_TOPIC, scope.signal)) {
          logger.debug(change, "cluster connection change announced");
          changed = true;
          wake.abort();
        }
      })();

      const reports = (async () => {
        for await (const summary of subscribeTopic(bus, STATS_TOPIC, scope.signal))
          runtimes.get(summary.clusterId)?.runtime.reportSeen(summary);
      })();

      // At most LIST_CONCURRENCY whole lists are read at once across the term's clusters: twenty
      // 5,000-node clusters listed together peaked at 1.6–1.75 GB of RSS on a quiet machine, the
      // garbage of their pages outrunning the collector. A page that hangs fails after its time-out
      // and frees its slot (ClusterWatchOptions.listPageTimeoutMs).
      const listLimit = pLimit(LIST_CONCURRENCY);
      const start = async (connection: ClusterConnection) => {
        const runtime = await startClusterInventory({
          db,
          pool: options.pool,
          bus,
          connection,
          watch: { listLimit, ...options.watch },
          onStatus: (status) => {
            logger.info(
              { clusterId: connection.clusterId, state: status.state, lastError: status.lastError },
              "cluster watch status",
            );
            options
              .recordConnectionStatus?.({ clusterId: connection.clusterId, status })
              .catch((error: unknown) =>
                logger.warn(
                  { err: error, clusterId: connection.clusterId },
                  "recording the cluster status failed",
                ),
              );
          },
          onError: (error) =>
            logger.warn({ err: error, clusterId: connection.clusterId }, "cluster inventory"),
        });
        const unshare = options.watches?.add(connection.clusterId, runtime.watch) ?? (() => undefined);
        runtimes.set(connection.clusterId, { fingerprint: fingerprint(connection), runtime, unshare });
      };

      try {
        while (!signal.aborted) {
          const connections = await options.connections.listClusterConnections();
          const wanted = new Map(connections.map((c) => [c.clusterId, c]));
          const removed = new Set<string>();
          for (const [clusterId, { fingerprint: known, runtime, unshare }] of runtimes) {
            const connection = wanted.get(clusterId);
            if (connection && fingerprint(connection) === known) continue;
            runtimes.delete(clusterId);
            unshare();
            await runtime.stop();
            if (!connection) removed.add(clusterId);
            logger.info(
              { clusterId },
              connection ? "cluster connection changed" : "cluster connection removed",
            );
          }
          // After the runtimes stopped, so no batch of theirs writes the rows back.
          for (const clusterId of await deleteInventoryExcept({ db, clusterIds: [...wanted.keys()] }))
            removed.add(clusterId);
          if (removed.size > 0)
            await publishTopicMany(
              bus,
              INVENTORY_TOPIC,
              [...removed].map((clusterId) => ({ type: "cluster-removed" as const, clusterId })),
            ).catch((error: unknown) =>
              logger.warn({ err: error }, "publishing the removal of a cluster's inventory failed"),
            );
          for (const connection of connections) {
            if (runtimes.has(connection.clusterId) || signal.aborted) continue;
            try {
              await start(connection);
              logger.info({ clusterId: connection.clusterId }, "watching cluster");
            } catch (error) {
              // A kubeconfig client-node refuses: the other clusters go on; tried again next round.
              logger.warn({ err: error, clusterId: connection.clusterId }, "cannot watch cluster");
            }
          }
          if (!changed)
            await delay(clock, options.reconcileIntervalMs ?? 60_000, AbortSignal.any([signal, wake.signal]));
          wake = new AbortController();
          changed = false;
        }
      } finally {
        await Promise.all(
          [...runtimes.values()].map(({ runtime, unshare }) => {
            unshare();
            return runtime.stop();
          }),
        );
        runtimes.clear();
        scope.end();
        await Promise.all([reports.catch(() => undefined), changes.catch(() => undefined)]);
      }
    },
  };
}
