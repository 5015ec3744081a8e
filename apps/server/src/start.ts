// Starting and stopping the whole server process, as one function that
// tests can call too (with an injected environment).
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Server as TlsServer } from "node:tls";
import path from "node:path";
import {
  createIngestGateway,
  createSecretBox,
  ensureInitialAdmin,
  listEnabledClusterConnections,
  recordConnectionStatus,
  type SessionPolicy,
} from "@tapfleet/core";
import {
  checkDatabaseConnection,
  createDb,
  createLiveBus,
  createPgPool,
  describeDatabaseHost,
  startLeaderLock,
} from "@tapfleet/db";
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from "@tapfleet/db/embedded";
import { applyMigrations } from "@tapfleet/db/migrate";
import type { FastifyInstance } from "fastify";
import { pino, type Logger } from "pino";
import { buildApp } from "./app.ts";
import { startControllers } from "./controllers/runner.ts";
import { createDebugLevelController } from "./controllers/debug-level.ts";
import { createClusterWatches } from "./controllers/cluster-watches.ts";
import { createRolloutsController } from "./controllers/rollouts.ts";
import { createInventoryController, type InventoryControllerOptions } from "./controllers/inventory.ts";
import {
  createSensorDriftController,
  type SensorDriftControllerOptions,
} from "./controllers/sensor-drift.ts";
import { createServerControllers, maintainReports } from "./controllers/server-controllers.ts";
import { createDemoService } from "./demo/demo.ts";
import { REPO_ROOT, type ServerEnv } from "./env.ts";
import { loadMasterKey } from "./master-key.ts";
import { createMetrics } from "./metrics.ts";
import { loadTlsMaterial, watchTlsFiles } from "./tls.ts";

export interface RunningServer {
  url: string;
  app: FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>;
  /** Whether this replica holds the leader lock (and runs the leader's controllers). */
  isLeader(): boolean;
  stop(): Promise<void>;
}

export function createLogger(level: ServerEnv["LOG_LEVEL"]): Logger {
  return pino({
    level,
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        'res.headers["set-cookie"]',
        "*.password",
        "*.secret",
      ],
      censor: "[redacted]",
    },
  });
}

export async function startServer(options: {
  env: ServerEnv;
  logger: Logger;
  /** Where the one-time admin password is shown. */
  announce?: (text: string) => void;
  /** How often the TLS files are checked for a renewed certificate. */
  tlsReloadIntervalMs?: number;
  /** How often a follower tries to take the leader lock (default 2 s). */
  leaderRetryIntervalMs?: number;
  /** Where the inventory controller learns which clusters to watch, and how its watches probe. */
  inventory?: Pick<InventoryControllerOptions, "connections" | "watch" | "reconcileIntervalMs">;
  /** How often the drift watches read their targets again without being told of a change. */
  sensorDrift?: Pick<SensorDriftControllerOptions, "reconcileIntervalMs">;
}): Promise<RunningServer> {
  const { env, logger } = options;
  const announce = options.announce ?? ((text: string) => process.stdout.write(text));
  const version = (
    JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }
  ).version;
  // Shutdown steps run in reverse order of start-up; each gets a time limit so
  // one stuck step (a connection to a database that vanished) cannot hold the
  // process forever.
  const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
  const onStop = (name: string, run: () => Promise<unknown>) => cleanups.push({ name, run });
  const cleanup = async () => {
    for (const step of cleanups.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${step.name} did not finish within 10 s`)), 10_000);
      });
      await Promise.race([step.run(), timeout])
        .catch((error: unknown) => logger.error({ err: error, step: step.name }, "shutdown step failed"))
        .finally(() => clearTimeout(timer));
    }
  };

  try {
    // First, so that a bad certificate stops the start before anything else runs.
    const tlsFiles =
      env.TAPFLEET_TLS_CERT_FILE && env.TAPFLEET_TLS_KEY_FILE
        ? {
            certFile: path.resolve(env.TAPFLEET_TLS_CERT_FILE),
            keyFile: path.resolve(env.TAPFLEET_TLS_KEY_FILE),
          }
        : undefined;
    const tls = tlsFiles ? loadTlsMaterial(tlsFiles) : undefined;
    if (tls && tls.validTo.getTime() < Date.now()) {
      logger.warn({ subject: tls.subject, validTo: tls.validTo }, "the TLS certificate has expired");
    }

    let databaseUrl: string;
    let embedded: EmbeddedPostgresHandle | undefined;
    if (env.DATABASE_URL) {
      databaseUrl = env.DATABASE_URL;
      await checkDatabaseConnection({ url: databaseUrl });
      logger.info({ host: describeDatabaseHost(databaseUrl) }, "using external PostgreSQL");
    } else {
      const dir = path.resolve(env.TAPFLEET_DATA_DIR);
      embedded = await startEmbeddedPostgres({
        dir,
        log: (message) => logger.debug({ component: "postgres" }, message),
      });
      onStop("stopping embedded PostgreSQL", () => embedded!.stop());
      databaseUrl = embedded.url;
      logger.info({ dir, port: embedded.port, created: embedded.created }, "embedded PostgreSQL started");
    }

    const applied = await applyMigrations({
      url: databaseUrl,
      migrationsDir: path.join(REPO_ROOT, "prisma/migrations"),
    });
    if (applied.length > 0) logger.info({ migrations: applied }, "database migrations applied");

    const db = createDb({ url: databaseUrl });
    onStop("closing database connections", () => db.$disconnect());
    // Which replica runs the controllers that must run once; see docs/adr/0009.
    const metrics = createMetrics();
    const leaderLock = await startLeaderLock({
      url: databaseUrl,
      ...(options.leaderRetryIntervalMs ? { retryIntervalMs: options.leaderRetryIntervalMs } : {}),
      onError: (error) => logger.warn({ err: error }, "leader lock"),
    });
    onStop("releasing the leader lock", () => leaderLock.close());
    metrics.leader.set(leaderLock.isLeader() ? 1 : 0);
    if (leaderLock.isLeader()) logger.info("this replica is the leader");
    leaderLock.onChange((leader) => {
      metrics.leader.set(leader ? 1 : 0);
      logger.info(leader ? "this replica is now the leader" : "this replica is no longer the leader");
    });
    const bus = await createLiveBus({
      url: databaseUrl,
      onError: (error) => logger.warn({ err: error }, "live bus"),
    });
    onStop("closing the live bus", () => bus.close());

    const secrets = createSecretBox(
      await loadMasterKey({
        fromEnv: env.TAPFLEET_SECRET_KEY,
        dataDir: path.resolve(env.TAPFLEET_DATA_DIR),
        warn: (message) => logger.warn(message),
      }),
    );
    const ingestPool = createPgPool({
      url: databaseUrl,
      max: 4,
      onError: (error) => logger.warn({ err: error }, "ingest pool: the database closed an idle connection"),
    });
    onStop("closing the ingest pool", () => ingestPool.end());
    // The leader's inventory batches (two at a time: a first sync of many clusters queues here).
    const inventoryPool = createPgPool({
      url: databaseUrl,
      max: 2,
      onError: (error) =>
        logger.warn({ err: error }, "inventory pool: the database closed an idle connection"),
    });
    onStop("closing the inventory pool", () => inventoryPool.end());
    const gateway = createIngestGateway({
      db,
      pool: ingestPool,
      bus,
      secrets,
      onError: (error, context) => logger.warn({ err: error }, context),
    });
    onStop("stopping the ingest key watch", () => Promise.resolve(gateway.close()));
    // Every replica, before it takes reports: today's partition must exist.
    await maintainReports({ db, retentionDays: env.TAPFLEET_STATS_RETENTION_DAYS, logger });

    const admin = await ensureInitialAdmin({ db, password: env.TAPFLEET_ADMIN_PASSWORD });
    if (admin.created) {
      if (admin.generatedPassword) {
        announce(
          [
            "",
            "  Tapfleet created the first user. This password is shown only once:",
            "",
            `      user:     ${admin.username}`,
            `      password: ${admin.generatedPassword}`,
            "",
            "  Sign in and change it under Your account, or set TAPFLEET_ADMIN_PASSWORD before the first start.",
            "",
            "",
          ].join("\n"),
        );
      } else {
        logger.info({ username: admin.username }, "created the first admin from TAPFLEET_ADMIN_PASSWORD");
      }
    }

    let dashboard: { handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> } | undefined;
    if (env.TAPFLEET_SERVE_DASHBOARD) {
      const dir = path.resolve(env.TAPFLEET_WEB_DIR ?? path.join(REPO_ROOT, "apps/web"));
      if (!existsSync(path.join(dir, ".next", "BUILD_ID"))) {
        throw new Error(
          `the dashboard in ${dir} is not built: run "npm run build" (npm start does it for you)`,
        );
      }
      const { default: next } = await import("next");
      const nextApp = next({ dev: false, dir, quiet: true });
      await nextApp.prepare();
      const handle = nextApp.getRequestHandler();
      dashboard = {
        handle: (req, res) => {
          // The page's own address, for the sign-in redirect's `next` (a layout is not told it);
          // overwritten, so a client cannot choose it.
          req.headers["x-tapfleet-path"] = req.url ?? "/";
          return handle(req, res);
        },
      };
      onStop("stopping the dashboard", () => nextApp.close());
    }

    const sessionPolicy: SessionPolicy = {
      ttlMs: env.TAPFLEET_SESSION_TTL_HOURS * 3600_000,
      idleTimeoutMs: env.TAPFLEET_SESSION_IDLE_MINUTES * 60_000,
    };
    // Runs after the listeners have closed (steps run in reverse): reports
    // already accepted are written before the database goes away.
    onStop("writing accepted reports", () => gateway.drain());
    let shuttingDown = false;
    // The demo's agents report through a listener of its own that hands requests to this app.
    const appRouting: { route?: (req: IncomingMessage, res: ServerResponse) => void } = {};
    const demo =
      env.TAPFLEET_DEMO === "off"
        ? undefined
        : createDemoService({
            db,
            bus,
            secrets,
            invalidateKeys: (keyId) => gateway.invalidateKeys(keyId),
            route: (req, res) => appRouting.route?.(req, res),
            dataDir: env.TAPFLEET_DATA_DIR,
            searchPath: env.PATH,
            log: logger,
          });
    const app = await buildApp({
      demo,
      db,
      bus,
      secrets,
      gateway,
      databaseUrl,
      logger,
      metrics,
      version,
      databaseKind: env.DATABASE_URL ? "external" : "embedded",
      collector: env.TAPFLEET_PUBLIC_URL ?? null,
      sessionPolicy,
      secureCookies: env.TAPFLEET_SECURE_COOKIES,
      trustProxy: env.TAPFLEET_TRUST_PROXY,
      bodyLimit: env.TAPFLEET_BODY_LIMIT_BYTES,
      liveRecheckMs: env.TAPFLEET_LIVE_RECHECK_MS,
      dashboard,
      isShuttingDown: () => shuttingDown,
      isLeader: () => leaderLock.isLeader(),
      benchBareEndpoint: env.TAPFLEET_BENCH_BARE_ENDPOINT,
      tls,
    });
    appRouting.route = (req, res) => app.routing(req, res);
    onStop("closing HTTP listeners", () => app.close());
    if (dashboard) {
      // The dashboard's server rendering reads through tRPC like the browser does, over plain
      // HTTP on loopback into this same app (whatever HOST, TLS or proxy the public listener has).
      const internal = createServer((req, res) => app.routing(req, res));
      await new Promise<void>((resolve, reject) => {
        internal.once("error", reject);
        internal.listen(0, "127.0.0.1", () => resolve());
      });
      onStop("closing the dashboard's internal listener", async () => {
        internal.closeAllConnections();
        await new Promise((resolve) => internal.close(resolve));
      });
      // Handed to the dashboard running in this process (its env.ts reads it per request); written,
      // not read, so this is no second place where configuration comes from.
      // eslint-disable-next-line no-restricted-properties
      process.env.TAPFLEET_INTERNAL_URL = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
    }
    if (demo) {
      // Runs before the listeners close (steps run in reverse): the demo leaves nothing behind.
      onStop("stopping the demo", () =>
        demo.status().state === "stopped" ? Promise.resolve() : demo.stop(),
      );
    }
    if (tlsFiles) {
      // buildApp made an https.Server (see there); new connections use the new pair.
      const server = app.server as unknown as TlsServer;
      const watcher = watchTlsFiles({
        files: tlsFiles,
        intervalMs: options.tlsReloadIntervalMs ?? 60_000,
        apply: (context, material) => {
          server.setSecureContext(context);
          logger.info({ subject: material.subject, validTo: material.validTo }, "TLS certificate reloaded");
        },
        onError: (error) =>
          logger.warn(
            { err: error },
            "TLS files changed but cannot be used; still serving the previous certificate",
          ),
      });
      onStop("stopping the TLS file watch", () => Promise.resolve(watcher.stop()));
    }

    // Background work; stopped first at shutdown, before the lock and the database go.
    // The inventory's cluster watches, which the rollouts read instead of the clusters' APIs.
    const clusterWatches = createClusterWatches();
    const controllers = startControllers({
      controllers: [
        ...createServerControllers({
          db,
          bus,
          sessionPolicy,
          retentionDays: env.TAPFLEET_STATS_RETENTION_DAYS,
          logger,
        }),
        createInventoryController({
          db,
          pool: inventoryPool,
          bus,
          logger,
          // The enabled stored connections, unless a test gives its own source.
          connections: options.inventory?.connections ?? {
            listClusterConnections: () => listEnabledClusterConnections({ db, secrets }),
          },
          watch: options.inventory?.watch,
          watches: clusterWatches,
          reconcileIntervalMs: options.inventory?.reconcileIntervalMs,
          // The watch's view of the cluster, kept with its connection (a connecting watch has no news yet).
          recordConnectionStatus: async ({ clusterId, status }) => {
            if (status.state === "connecting") return;
            await recordConnectionStatus({
              db,
              clusterId,
              state: status.state,
              serverVersion: status.serverVersion,
              error:
                status.state === "reachable" ? null : (status.lastError ?? "the cluster does not answer"),
            });
          },
        }),
        createDebugLevelController({ db, bus, secrets, logger }),
        createSensorDriftController({ db, bus, secrets, logger, ...options.sensorDrift }),
        createRolloutsController({ db, bus, secrets, logger, watches: clusterWatches }),
      ],
      leadership: leaderLock,
      log: logger,
    });
    onStop("stopping controllers", () => controllers.stop());

    const address = await app.listen({ port: env.PORT, host: env.HOST });
    const url = address.replace("127.0.0.1", "localhost");
    logger.info({ url }, `Tapfleet is listening on ${url}`);
    if (demo && env.TAPFLEET_DEMO === "start") {
      const started = await demo.start();
      // The files' paths only: their content is the simulators' credentials.
      const kubectlLines = started.clusters.map((cluster) => `    ${cluster.kubectlCommand}\n`).join("");
      announce(
        `\n  The demo is running: two simulated clusters report to ${url} (Fleet page). Ctrl-C stops it.\n` +
          `  kubectl against its clusters:\n${kubectlLines}\n`,
      );
    }

    let stopping: Promise<void> | undefined;
    return {
      url: address,
      app,
      isLeader: () => leaderLock.isLeader(),
      stop: () => {
        stopping ??= (async () => {
          shuttingDown = true;
          await cleanup();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
