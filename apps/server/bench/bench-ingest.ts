// npm run bench:ingest — signed stats reports per second and latency through
// the ingest gateway (verification + persistence + live publish), side by side
// with a bare endpoint on the same server stack, in the same run.
//
// The server runs in its own process with an embedded PostgreSQL; this process
// generates load. Each connection plays one node and sends its reports in
// sequence, so every report is new and really stored.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  encodeStatsReport,
  INGEST_PATHS,
  PROTOCOL_VERSION,
  signRequest,
  type StatsReport,
} from "@tapfleet/sensor";
import { Pool } from "undici";
import { findFreePort } from "@tapfleet/db/embedded";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const root = path.resolve(import.meta.dirname, "../../..");

async function startServer() {
  const dataDir = await mkdtemp(path.join(tmpdir(), "tapfleet-bench-"));
  const { chmod } = await import("node:fs/promises");
  await chmod(dataDir, 0o755);
  const port = await findFreePort();
  const profile = process.env.BENCH_PROFILE_DIR
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const child = spawn(
    process.execPath,
    [...profile, "--import", "tsx", path.join(root, "apps/server/src/main.ts")],
    {
      env: {
        ...process.env,
        PORT: String(port),
        LOG_LEVEL: "warn",
        TAPFLEET_DATA_DIR: dataDir,
        TAPFLEET_SERVE_DASHBOARD: "false",
        TAPFLEET_ADMIN_PASSWORD: "bench-admin-password",
        TAPFLEET_BENCH_BARE_ENDPOINT: "true",
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  child.stdout.resume();
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
    pid: child.pid!,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.on("exit", resolve));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function registerCluster(url: string): Promise<{ keyId: string; secret: string }> {
  const login = await fetch(`${url}/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: "bench-admin-password" }),
  });
  const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
  const created = await fetch(`${url}/trpc/clusters.create`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ id: "bench" }),
  });
  return ((await created.json()) as { result: { data: { keyId: string; secret: string } } }).result.data;
}

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
      topTalkers: [{ address: "10.0.0.1", packets: 10, bytes: 6400 }],
    })),
    upload: { chunksSent: sequence, bytesSent: sequence * 1000, chunksDropped: {} },
  };
}

interface Result {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
}

// Agent start time shared by all phases, so sequences keep growing across them.
const runStartedAt = Date.now();
let sequenceBase = 0;

async function load(url: string, path: string, key: { keyId: string; secret: string }): Promise<Result> {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const reasons = new Map<string, number>();
  // Requests are signed before the clock starts, so the generator spends its
  // CPU sending, not signing (it shares the machine with the server).
  const perWorker = Number(process.env.BENCH_REQUESTS_PER_CONNECTION ?? 1500);
  const prepared = Array.from({ length: CONNECTIONS }, (_, node) =>
    Array.from({ length: perWorker }, (_, sequence) => {
      const body = encodeStatsReport(report(node, sequenceBase + sequence, runStartedAt));
      const headers = signRequest({
        method: "POST",
        path,
        body,
        keyId: key.keyId,
        key: key.secret,
        now: Date.now(),
        nonce: randomBytes(16).toString("base64url"),
      });
      return { body, headers: { ...headers, "content-type": "application/json" } };
    }),
  );
  let exhausted = 0;
  const startedAt = Date.now();
  const deadline = startedAt + SECONDS * 1000;
  const worker = async (node: number) => {
    for (const request of prepared[node]!) {
      if (Date.now() >= deadline) return;
      const t0 = performance.now();
      const response = await pool.request({
        method: "POST",
        path,
        headers: request.headers,
        body: request.body,
      });
      const text = await response.body.text();
      latencies.push(performance.now() - t0);
      if (response.statusCode !== 200) {
        errors += 1;
        const reason = `${response.statusCode} ${(/"reason":"([a-z_]+)"/.exec(text) ?? [])[1] ?? ""}`;
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
    }
    exhausted += 1;
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, node) => worker(node)));
  const elapsed = (Date.now() - startedAt) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  sequenceBase += perWorker;
  if (exhausted > 0)
    console.log(
      `${path}: ${exhausted} connections ran out of prepared requests; raise BENCH_REQUESTS_PER_CONNECTION`,
    );
  if (reasons.size > 0) console.log(`errors on ${path}:`, Object.fromEntries(reasons));
  return {
    requests: latencies.length,
    errors,
    perSecond: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
  };
}

const server = await startServer();
try {
  const key = await registerCluster(server.url);
  // Warm both paths (JIT, connection pools) before measuring.
  await load(server.url, "/ingest/v1/bare", key).catch(() => undefined);
  const bare = await load(server.url, "/ingest/v1/bare", key);
  const ingest = await load(server.url, INGEST_PATHS.reports, key);
  const stored = ingest.requests - ingest.errors;
  const row = (name: string, r: Result) =>
    `| ${name.padEnd(34)} | ${r.perSecond.toFixed(0).padStart(9)} | ${r.p50.toFixed(1).padStart(8)} | ${r.p99.toFixed(1).padStart(8)} | ${String(r.errors).padStart(6)} |`;
  console.log(
    `\ningest benchmark: ${CONNECTIONS} connections, ${SECONDS} s per endpoint, ${(await import("node:os")).cpus().length} cores\n`,
  );
  console.log("| endpoint                           | req/s     | p50 ms   | p99 ms   | errors |");
  console.log("|------------------------------------|-----------|----------|----------|--------|");
  console.log(row("bare (same stack, no work)", bare));
  console.log(row("ingest (verify + store + publish)", ingest));
  console.log(
    `\nratio ingest/bare: ${(ingest.perSecond / bare.perSecond).toFixed(3)}   reports accepted: ${stored}`,
  );
  console.log(
    `targets: ≥ 10,000 reports/s and p99 < 100 ms — ${ingest.perSecond >= 10_000 && ingest.p99 < 100 ? "met" : "NOT met"}`,
  );
} finally {
  await server.stop();
}
