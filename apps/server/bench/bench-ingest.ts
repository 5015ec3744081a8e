// npm run bench:ingest — signed stats reports per second and latency through
// the ingest gateway (verification + persistence + live publish), side by side
// with a bare endpoint on the same server stack, in the same run.
//
// The server runs in its own process with an embedded PostgreSQL. The load
// comes from wrk (Debian package `wrk`, a small C load generator): every
// request is built and signed before the clock starts, each with its own nonce,
// and wrk replays them from a file (wrk-replay.lua). A load generator written
// in Node took about as much CPU as the server it measured, on a machine whose
// two cores the server and PostgreSQL also share.
//
// Reports come from BENCH_NODES simulated nodes in turn, so every report is a
// new one from its node (sequence numbers grow), and each node has at most one
// report in flight, as a real agent does. After the run the bench counts the
// stored rows: every acknowledged report must be there.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { createPgPool } from "@tapfleet/db";
import { INGEST_PATHS, PROTOCOL_VERSION, signRequest, type StatsReport } from "@tapfleet/sensor";
import { adminCookie, CLOCK_TICKS, cpuTicks, descendants, startBenchServer } from "./bench-support.ts";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const NODES = Number(process.env.BENCH_NODES ?? 10_000);
/** Reports prepared per second of measurement: must exceed what the server can take. */
const MAX_RATE = Number(process.env.BENCH_MAX_RATE ?? 20_000);
const WRK_THREADS = Number(process.env.BENCH_WRK_THREADS ?? 1);
/** Extra environment for the server, as JSON (for experiments). */
const SERVER_ENV = JSON.parse(process.env.BENCH_SERVER_ENV ?? "{}") as Record<string, string>;
const ADMIN_PASSWORD = "bench-admin-password";

function ensureWrk(): void {
  if (spawnSync("wrk", ["--version"]).error === undefined) return;
  const isRoot = process.getuid?.() === 0;
  if (isRoot && spawnSync("apt-get", ["--version"]).error === undefined) {
    console.log("installing the load generator: apt-get install -y wrk");
    const installed = spawnSync("apt-get", ["install", "-y", "wrk"], { stdio: "inherit" });
    if (installed.status === 0) return;
  }
  console.error("bench:ingest needs wrk, the Debian package `wrk` (apt-get install wrk)");
  process.exit(1);
}

async function startServer() {
  const server = await startBenchServer({
    adminPassword: ADMIN_PASSWORD,
    profileDir: process.env.BENCH_PROFILE_DIR,
    env: { TAPFLEET_SERVE_DASHBOARD: "false", TAPFLEET_BENCH_BARE_ENDPOINT: "true", ...SERVER_ENV },
  });
  const { dataDir } = server;
  // The embedded database, for counting what was stored.
  const pgDir = path.join(dataDir, "pg");
  const pgPort = (await readFile(path.join(pgDir, "postmaster.pid"), "utf8")).split("\n")[3]!.trim();
  const password = (await readFile(path.join(dataDir, "pg-password"), "utf8")).trim();
  const databaseUrl = `postgresql://tapfleet:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/tapfleet`;
  return { ...server, databaseUrl };
}

async function registerCluster(url: string): Promise<{ keyId: string; secret: string }> {
  const cookie = await adminCookie(url, ADMIN_PASSWORD);
  const created = await fetch(`${url}/trpc/clusters.create`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ id: "bench" }),
  });
  return ((await created.json()) as { result: { data: { keyId: string; secret: string } } }).result.data;
}

/** A report with two interfaces, about 1.4 kB of JSON, like a busy node's. */
function report(node: number, sequence: number, startedAt: number): StatsReport {
  return {
    protocolVersion: PROTOCOL_VERSION,
    agent: {
      clusterId: "bench",
      nodeName: `node-${node}`,
      podName: `tapfleet-agent-${node}`,
      agentVersion: "0.1.0",
      configHash: "0123456789abcdef",
      startedAt,
      sequence,
    },
    sentAt: Date.now(),
    interfaces: ["eth0", "eth1"].map((name, i) => ({
      name,
      packets: sequence * 1000 + i,
      bytes: sequence * 640_000,
      kernelDrops: 0,
      interfaceDrops: 0,
      protocols: { ipv4: 900, ipv6: 100, tcp: 700, udp: 250, icmp: 10, other: 40 },
      topTalkers: [
        { address: "10.0.0.1", packets: 10, bytes: 6400 },
        { address: "10.0.0.2", packets: 9, bytes: 5400 },
        { address: "fd00::17", packets: 3, bytes: 900 },
      ],
    })),
    upload: { chunksSent: sequence, bytesSent: sequence * 1000, chunksDropped: { queue_full: 1 } },
  };
}

/**
 * Writes `count` raw signed requests for `path` to a file in wrk-replay.lua's
 * format. Report i comes from node i mod NODES; all carry `startedAt` as
 * their agent start, so a set with a new `startedAt` is new to the server.
 */
async function prepareRequests(options: {
  file: string;
  path: string;
  count: number;
  startedAt: number;
  host: string;
  key: { keyId: string; secret: string };
}): Promise<number> {
  const out = createWriteStream(options.file);
  let bodyBytes = 0;
  for (let i = 0; i < options.count; i++) {
    const body = Buffer.from(JSON.stringify(report(i % NODES, Math.floor(i / NODES), options.startedAt)));
    bodyBytes += body.byteLength;
    const headers = signRequest({
      method: "POST",
      path: options.path,
      body,
      keyId: options.key.keyId,
      key: options.key.secret,
      now: Date.now(),
      nonce: randomBytes(16).toString("base64url"),
    });
    const head =
      `POST ${options.path} HTTP/1.1\r\nHost: ${options.host}\r\ncontent-type: application/json\r\n` +
      `content-length: ${body.byteLength}\r\n` +
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join("") +
      "\r\n";
    const request = Buffer.concat([Buffer.from(head), body]);
    if (!out.write(`${request.byteLength}\n`) || !out.write(request)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return bodyBytes / options.count;
}

// --- CPU accounting from /proc: who used the two cores during a phase --------

async function machineTicks(): Promise<{ busy: number; total: number }> {
  const line = (await readFile("/proc/stat", "utf8")).split("\n")[0]!;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: total - values[3]! - values[4]!, total };
}

async function cpuSnapshot(serverPid: number) {
  // PostgreSQL: the postmaster and its backends; a backend that exits is
  // counted in the postmaster's reaped-children time.
  const database = await descendants(serverPid);
  const ticks = await Promise.all(database.map((pid) => cpuTicks(pid, true)));
  return {
    server: await cpuTicks(serverPid),
    database: ticks.reduce((a, b) => a + b, 0),
    machine: await machineTicks(),
  };
}

// --- one measured phase --------------------------------------------------------

interface Result {
  requests: number;
  errors: number;
  wrapped: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU in percent of one core. */
  serverCpu: number;
  databaseCpu: number;
  generatorCpu: number;
  machineBusy: number;
}

async function load(options: { url: string; file: string; seconds: number; serverPid: number }) {
  const before = await cpuSnapshot(options.serverPid);
  // The shell reports wrk's CPU time (its children's, once waited for) after wrk exits.
  const wrk = spawn(
    "sh",
    [
      "-c",
      'wrk "$@"; status=$?; echo "CHILDSTAT $(cat /proc/$$/stat)"; exit $status',
      "sh",
      `-t${WRK_THREADS}`,
      `-c${CONNECTIONS}`,
      `-d${options.seconds}s`,
      "--timeout",
      "10s",
      "-s",
      path.join(import.meta.dirname, "wrk-replay.lua"),
      options.url,
      "--",
      options.file,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let output = "";
  wrk.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(wrk, "exit")) as [number | null];
  const after = await cpuSnapshot(options.serverPid);
  const resultLine = /^RESULT (.*)$/m.exec(output);
  if (code !== 0 || !resultLine) throw new Error(`wrk failed (exit ${code}):\n${output}`);
  const r = JSON.parse(resultLine[1]!) as {
    wrapped: number;
    requests: number;
    durationUs: number;
    connectErrors: number;
    readErrors: number;
    writeErrors: number;
    statusErrors: number;
    timeouts: number;
    p50Us: number;
    p99Us: number;
  };
  const childStat = /^CHILDSTAT (.*)$/m.exec(output)?.[1] ?? "";
  const fields = childStat.slice(childStat.lastIndexOf(")") + 2).split(" ");
  const generatorTicks = Number(fields[13] ?? 0) + Number(fields[14] ?? 0);
  const seconds = r.durationUs / 1e6;
  const percent = (ticks: number) => (100 * ticks) / CLOCK_TICKS / seconds;
  const machineTotal = after.machine.total - before.machine.total;
  return {
    requests: r.requests,
    errors: r.connectErrors + r.readErrors + r.writeErrors + r.statusErrors + r.timeouts,
    wrapped: r.wrapped,
    perSecond: r.requests / seconds,
    p50: r.p50Us / 1000,
    p99: r.p99Us / 1000,
    serverCpu: percent(after.server - before.server),
    databaseCpu: percent(after.database - before.database),
    generatorCpu: percent(generatorTicks),
    machineBusy:
      (100 * cpus().length * (after.machine.busy - before.machine.busy)) / Math.max(1, machineTotal),
  } satisfies Result;
}

// --- main ----------------------------------------------------------------------

ensureWrk();
const loadAtStart = loadavg();
const server = await startServer();
const work = await mkdtemp(path.join(tmpdir(), "tapfleet-bench-requests-"));
const pool = createPgPool({
  url: server.databaseUrl,
  max: 1,
  onError: (error) => console.error(`bench pool: ${error.message}`),
});
try {
  const key = await registerCluster(server.url);
  const host = `127.0.0.1:${server.port}`;
  const runStartedAt = Date.now();
  const files = {
    bare: path.join(work, "bare"),
    warmIngest: path.join(work, "warm-ingest"),
    ingest: path.join(work, "ingest"),
  };
  const prepareStarted = Date.now();
  const common = { host, key };
  // The bare endpoint verifies nothing, so a small set replayed in a loop will do.
  await prepareRequests({
    ...common,
    file: files.bare,
    path: "/ingest/v1/bare",
    count: 20_000,
    startedAt: 0,
  });
  await prepareRequests({
    ...common,
    file: files.warmIngest,
    path: INGEST_PATHS.reports,
    count: MAX_RATE * WARMUP_SECONDS,
    startedAt: runStartedAt - 1000,
  });
  const bodyBytes = await prepareRequests({
    ...common,
    file: files.ingest,
    path: INGEST_PATHS.reports,
    count: MAX_RATE * SECONDS,
    startedAt: runStartedAt,
  });
  console.log(
    `prepared ${MAX_RATE * (SECONDS + WARMUP_SECONDS)} signed reports of ${bodyBytes.toFixed(0)} bytes from ${NODES} nodes in ${((Date.now() - prepareStarted) / 1000).toFixed(1)} s`,
  );

  const run = (file: string, seconds: number) =>
    load({ url: server.url, file, seconds, serverPid: server.pid });
  // Warm both paths (JIT, connection pools, database caches) before measuring.
  await run(files.bare, WARMUP_SECONDS);
  await run(files.warmIngest, WARMUP_SECONDS);
  const bare = await run(files.bare, SECONDS);
  const ingest = await run(files.ingest, SECONDS);
  // Let the last batches commit before counting (wrk stops with requests in flight).
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const stored = Number(
    (
      await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM "SensorReport" WHERE "agentStartedAt" = $1`,
        [new Date(runStartedAt)],
      )
    ).rows[0]!.n,
  );
  const acknowledged = ingest.requests - ingest.errors;

  const pct = (value: number) => `${value.toFixed(0)} %`.padStart(6);
  const row = (name: string, r: Result) =>
    `| ${name.padEnd(33)} | ${r.perSecond.toFixed(0).padStart(7)} | ${r.p50.toFixed(1).padStart(6)} | ${r.p99.toFixed(1).padStart(6)} | ${String(r.errors).padStart(6)} | ${pct(r.serverCpu)} | ${pct(r.databaseCpu)} | ${pct(r.generatorCpu)} | ${pct(r.machineBusy)} |`;
  console.log(
    `\ningest benchmark: ${CONNECTIONS} connections, ${SECONDS} s per endpoint, ${cpus().length} cores, ` +
      `load average ${loadAtStart.map((l) => l.toFixed(2)).join(" ")} at start, ` +
      `${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} at end\n`,
  );
  console.log(
    "| endpoint                          |   req/s | p50 ms | p99 ms | errors | server | postgres |  wrk  | machine |",
  );
  console.log(
    "|-----------------------------------|---------|--------|--------|--------|--------|----------|-------|---------|",
  );
  console.log(row("bare (same stack, no work)", bare));
  console.log(row("ingest (verify + store + publish)", ingest));
  console.log("(CPU columns: percent of one core; machine = all processes, 200 % = both cores busy)");
  const perRequest = (name: string, r: Result) =>
    `| ${name} | ${[r.serverCpu, r.databaseCpu, r.generatorCpu]
      .map((cpu) => ((cpu / 100 / r.perSecond) * 1e6).toFixed(0).padStart(8))
      .join(" | ")} |`;
  console.log("\n| CPU µs per request |   server | postgres |      wrk |");
  console.log("|--------------------|----------|----------|----------|");
  console.log(perRequest("bare".padEnd(18), bare));
  console.log(perRequest("ingest".padEnd(18), ingest));
  console.log(
    `\nratio ingest/bare: ${(ingest.perSecond / bare.perSecond).toFixed(3)}   reports acknowledged: ${acknowledged}, stored: ${stored}${stored < acknowledged ? "  ← FEWER STORED THAN ACKNOWLEDGED" : ""}`,
  );
  if (ingest.wrapped > 0)
    console.log(`the ingest phase ran out of prepared reports (raise BENCH_MAX_RATE): replays were refused`);
  console.log(
    `targets: ≥ 10,000 reports/s and p99 < 100 ms — ${ingest.perSecond >= 10_000 && ingest.p99 < 100 ? "met" : "NOT met"}`,
  );
} finally {
  await pool.end();
  await rm(work, { recursive: true, force: true });
  await server.stop();
}
