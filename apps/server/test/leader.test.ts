// Two real server processes on one PostgreSQL: exactly one leads (runs the
// controllers that must run once); when it dies or loses its lock connection,
// the other takes over, and at no moment do both lead.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { ADMIN_PASSWORD } from "./harness.ts";

interface LogLine {
  time: number;
  msg: string;
}

interface Replica {
  name: string;
  url: string;
  child: ChildProcess;
  logs: LogLine[];
  exited: Promise<unknown>;
}

let database: TestDatabase;
let admin: pg.Client;
const replicas: Replica[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
});
afterAll(async () => {
  for (const replica of replicas) {
    if (replica.child.exitCode === null && replica.child.signalCode === null) replica.child.kill("SIGTERM");
    await replica.exited;
  }
  await admin?.end();
  await database?.stop();
});

/** Starts `npm start`'s entry point as its own process; resolves once it listens. */
async function startReplica(name: string): Promise<Replica> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.resolve(import.meta.dirname, "../src/main.ts")],
    {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        PORT: "0",
        TAPFLEET_SERVE_DASHBOARD: "false",
        TAPFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = new Promise((resolve) => child.on("exit", resolve));
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const logs: LogLine[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      let parsed: LogLine & { url?: string };
      try {
        parsed = JSON.parse(line) as LogLine & { url?: string };
      } catch {
        return;
      }
      logs.push(parsed);
      if (parsed.msg.startsWith("Tapfleet is listening") && parsed.url) resolve(parsed.url);
    });
    void exited.then(() => reject(new Error(`replica ${name} exited while starting: ${stderr}`)));
  });
  const replica = { name, url, child, logs, exited };
  replicas.push(replica);
  return replica;
}

/** The replica's tapfleet_leader gauge, or undefined when it does not answer. */
async function leaderGauge(replica: Replica): Promise<number | undefined> {
  try {
    const response = await fetch(`${replica.url}/metrics`, { signal: AbortSignal.timeout(2000) });
    const match = /^tapfleet_leader (\d+)$/m.exec(await response.text());
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Samples every replica's gauge, all at once, until stopped; records any sample with two leaders. */
function sampleLeaders(): { stop(): Promise<{ samples: number; twoLeaders: string[] }> } {
  let running = true;
  let samples = 0;
  const twoLeaders: string[] = [];
  const loop = (async () => {
    while (running) {
      const live = replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
      const gauges = await Promise.all(live.map(leaderGauge));
      samples++;
      const leaders = live.filter((_, i) => gauges[i] === 1).map((r) => r.name);
      if (leaders.length > 1) twoLeaders.push(leaders.join(" and "));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, twoLeaders };
    },
  };
}

/** Leadership changes are polled closely: some of these bounds are a second. */
const within = (timeoutMs: number, what: string) => ({ timeoutMs, what, intervalMs: 25 });

/** The moments a replica's leadership began and ended, from its own log. */
function leadership(replica: Replica): { from: number; to: number }[] {
  const terms: { from: number; to: number }[] = [];
  for (const line of replica.logs) {
    if (/is (now )?the leader$/.test(line.msg)) terms.push({ from: line.time, to: Infinity });
    if (line.msg.endsWith("is no longer the leader") && terms.at(-1)?.to === Infinity)
      terms.at(-1)!.to = line.time;
  }
  return terms;
}

async function lockHolders(): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted",
  );
  return rows.map((row) => row.pid);
}

// Each test starts two or three real server processes one after the other (migrations, the
// dashboard, every controller): on a loaded 2-core machine that alone can take most of the default
// 30 s, so the tests get room; the takeover bounds they assert are their own.
describe("leader election between server replicas", { timeout: 90_000 }, () => {
  it("makes exactly one replica leader, and the other takes over within 10 s of a SIGKILL", async () => {
    const a = await startReplica("a");
    const b = await startReplica("b");
    expect(await leaderGauge(a)).toBe(1);
    expect(await leaderGauge(b)).toBe(0);
    const health = async (replica: Replica) =>
      (await (await fetch(`${replica.url}/healthz`)).json()) as { status: string; leader: boolean };
    expect(await health(a)).toEqual({ status: "ok", leader: true });
    expect(await health(b)).toEqual({ status: "ok", leader: false });

    const sampler = sampleLeaders();
    a.child.kill("SIGKILL");
    const killedAt = Date.now();
    await a.exited;
    await waitFor(() => leaderGauge(b), { until: (g) => g === 1, ...within(10_000, "b to lead") });
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    const { samples, twoLeaders } = await sampler.stop();
    expect(samples).toBeGreaterThan(3);
    expect(twoLeaders).toEqual([]);
    expect(await lockHolders()).toHaveLength(1);
  });

  it("steps down at once when its lock connection is terminated, and one replica leads again", async () => {
    const b = replicas.find((r) => r.name === "b")!;
    const c = await startReplica("c");
    expect(await leaderGauge(b)).toBe(1);
    expect(await leaderGauge(c)).toBe(0);
    const [holder] = await lockHolders();
    expect(holder).toBeDefined();

    const sampler = sampleLeaders();
    const terminatedAt = Date.now();
    await admin.query("SELECT pg_terminate_backend($1)", [holder]);
    await waitFor(() => leaderGauge(b), { until: (g) => g === 0, ...within(1000, "b to step down") });
    // Its log line says when, to the millisecond (it may reach us a little after the gauge).
    await waitFor(() => leadership(b).at(-1), {
      until: (term) => term?.to !== Infinity,
      ...within(1000, "b to log stepping down"),
    });
    const steppedDownAt = leadership(b).at(-1)!.to;
    // The lock connection's failure, not the next periodic check, made it step down.
    expect(steppedDownAt - terminatedAt).toBeLessThan(500);

    await waitFor(() => Promise.all([b, c].map(leaderGauge)), {
      until: (gauges) => gauges.filter((g) => g === 1).length === 1,
      ...within(10_000, "one leader again"),
    });
    const { twoLeaders } = await sampler.stop();
    expect(twoLeaders).toEqual([]);
    const holders = await lockHolders();
    expect(holders).toHaveLength(1);
    expect(holders[0]).not.toBe(holder);

    // By the replicas' own logs, no two terms overlap.
    const terms = [b, c].flatMap((replica) => leadership(replica)).sort((x, y) => x.from - y.from);
    for (let i = 1; i < terms.length; i++) expect(terms[i]!.from).toBeGreaterThanOrEqual(terms[i - 1]!.to);
  });

  it("releases the lock on an ordinary shutdown, so the other leads at its next try", async () => {
    const leader = (await leaderGauge(replicas.find((r) => r.name === "b")!)) === 1 ? "b" : "c";
    const [stopping, staying] = ["b", "c"]
      .map((name) => replicas.find((r) => r.name === name)!)
      .sort((x) => (x.name === leader ? -1 : 1)) as [Replica, Replica];
    stopping.child.kill("SIGTERM");
    expect(await stopping.exited).toBe(0);
    await waitFor(() => leaderGauge(staying), {
      until: (g) => g === 1,
      ...within(5000, "the other replica to lead"),
    });
    expect(stopping.logs.map((line) => line.msg)).toContain("stopped");
  });
});
