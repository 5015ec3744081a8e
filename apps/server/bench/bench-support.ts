// What the server benchmarks share: the server in a process of its own (with
// its embedded PostgreSQL), signing in as its admin, and the CPU time of
// processes read from /proc.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { findFreePort } from "@tapfleet/db/embedded";

const root = path.resolve(import.meta.dirname, "../../..");

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ). */
export const CLOCK_TICKS = 100;

export interface BenchServer {
  url: string;
  port: number;
  dataDir: string;
  pid: number;
  stop: () => Promise<void>;
}

interface BenchServerOptions {
  adminPassword: string;
  env: Record<string, string>;
  profileDir?: string | undefined;
}

/**
 * Starts apps/server in a child process on a free port with a fresh data
 * directory, and resolves once /readyz answers. The server's stdout goes to
 * `logFile` when given, else nowhere; `env` adds to (and overrides) the
 * benchmark's own environment.
 */
export async function startBenchServer(
  options: BenchServerOptions & { logFile: (port: number) => string },
): Promise<BenchServer & { logFile: string }>;
export async function startBenchServer(options: BenchServerOptions): Promise<BenchServer>;
export async function startBenchServer(
  options: BenchServerOptions & { logFile?: (port: number) => string },
): Promise<BenchServer & { logFile?: string }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "tapfleet-bench-"));
  await chmod(dataDir, 0o755);
  const port = await findFreePort();
  const profile = options.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`] : [];
  // Node flags for the server alone (e.g. `--trace-gc`), split at spaces; a warning's stack always.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(
    process.execPath,
    [
      ...profile,
      "--trace-warnings",
      ...nodeArgs,
      "--import",
      "tsx",
      path.join(root, "apps/server/src/main.ts"),
    ],
    {
      env: {
        ...process.env,
        PORT: String(port),
        LOG_LEVEL: "warn",
        TAPFLEET_DATA_DIR: dataDir,
        TAPFLEET_ADMIN_PASSWORD: options.adminPassword,
        ...options.env,
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const logFile = options.logFile?.(port);
  if (logFile) child.stdout.pipe(createWriteStream(logFile));
  else child.stdout.resume();
  let exited = false;
  child.on("exit", () => (exited = true));
  for (;;) {
    if (exited) throw new Error("the server exited during start-up");
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    port,
    dataDir,
    ...(logFile ? { logFile } : {}),
    pid: child.pid!,
    stop: async () => {
      if (!exited) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in as the admin and returns the session cookie. */
export async function adminCookie(url: string, password: string): Promise<string> {
  const login = await fetch(`${url}/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password }),
  });
  const cookie = login.headers.getSetCookie()[0]?.split(";")[0];
  if (!login.ok || !cookie) throw new Error(`logging in answered ${login.status}`);
  return cookie;
}

/** The fields of /proc/<pid>/stat after the command name (empty once the process is gone). */
async function procStat(pid: number): Promise<number[]> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
}

/** User + system ticks, with those of reaped children (PostgreSQL backends that exited) if asked. */
export async function cpuTicks(pid: number, withReaped = false): Promise<number> {
  const f = await procStat(pid);
  return (f[11] ?? 0) + (f[12] ?? 0) + (withReaped ? (f[13] ?? 0) + (f[14] ?? 0) : 0);
}

/** Every process below `pid`: for the server, its PostgreSQL postmaster and backends. */
export async function descendants(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = (await procStat(Number(entry)))[1]!;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent)!.push(Number(entry));
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const child of children.get(p) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}
