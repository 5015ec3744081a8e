import { decodeStatsReport, type InterfaceStats, type StatsReport } from "@tapfleet/sensor/protocol";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";
import { Reporter } from "./reporter.ts";

const HASH = "a".repeat(64);

function interfaceStats(name: string, bytes: number): InterfaceStats {
  return {
    name,
    packets: bytes > 0 ? 1 : 0,
    bytes,
    kernelDrops: 0,
    interfaceDrops: 0,
    protocols: { ipv4: 0, ipv6: 0, tcp: 0, udp: 0, icmp: 0, other: 0 },
    topTalkers: [],
  };
}

/** A reporter whose collector answers each POST with the next of `answers`, recording what it received. */
function reporterAnswering(answers: Array<{ status: number; body?: string }>) {
  const received: StatsReport[] = [];
  const lines: string[] = [];
  const steps: string[] = [];
  const lineWaiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  /** Resolves when a log line matching `pattern` is written. */
  const logged = (pattern: RegExp): Promise<void> =>
    lines.some((line) => pattern.test(line))
      ? Promise.resolve()
      : new Promise((resolve) => lineWaiters.push({ pattern, resolve }));
  const reporter = new Reporter({
    client: {
      post: (_path, body) => {
        const decoded = decodeStatsReport(body as string);
        if (!decoded.ok) return Promise.reject(new Error(decoded.message));
        received.push(decoded.value);
        const answer = answers.shift() ?? { status: 200 };
        return Promise.resolve({ status: answer.status, body: answer.body ?? '{"ok":true}' });
      },
    },
    identity: (sequence) => ({
      clusterId: "lab",
      nodeName: "node-1",
      podName: "sensor-1",
      agentVersion: "0.1.0",
      configHash: HASH,
      startedAt: 1_000,
      sequence,
    }),
    configHash: HASH,
    reportIntervalSeconds: 10,
    tuning: { maxQueuedReports: 10, backoffBaseMs: 1, backoffCapMs: 1 },
    now: () => 2_000,
    random: () => 0,
    log: createLogger({
      level: 2,
      write: (line) => {
        const text = line.replace(/^\S+ /, "").trimEnd();
        lines.push(text);
        for (const waiter of lineWaiters) if (waiter.pattern.test(text)) waiter.resolve();
      },
    }),
    flushCapture: () => {
      steps.push("flush");
      return Promise.resolve();
    },
    takeInterfaceStats: () => {
      steps.push("stats");
      return [interfaceStats("eth0", 10), interfaceStats("eth1", 500), interfaceStats("cni0", 10)];
    },
    nodeInterfaces: () => ["cni0", "eth0", "eth1", "lo", "veth1a2b"],
    uploadStats: () => ({ chunksSent: 3, bytesSent: 3000, chunksDropped: { queue_full: 1 } }),
  });
  return { reporter, received, lines, steps, logged };
}

describe("Reporter", () => {
  it("flushes the capture before counting, and reports the busiest interfaces first", async () => {
    const { reporter, received, steps } = reporterAnswering([]);
    await reporter.report();
    expect(await reporter.flush(5000)).toBe(0);
    expect(steps).toEqual(["flush", "stats"]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      agent: { sequence: 0, configHash: HASH },
      sentAt: 2_000,
      reportIntervalSeconds: 10,
      upload: { chunksSent: 3, bytesSent: 3000, chunksDropped: { queue_full: 1 } },
    });
    expect(received[0]?.interfaces.map((stats) => stats.name)).toEqual(["eth1", "cni0", "eth0"]);
    // Every interface of the node, captured or not, for the server's interface preview.
    expect(received[0]?.nodeInterfaces).toEqual(["cni0", "eth0", "eth1", "lo", "veth1a2b"]);
    expect(received[0]?.upload.reportsDropped).toBeUndefined();
  });

  it("retries a report the server cannot take now, counts one it refuses, and says once that a rollout is pending", async () => {
    const desired = JSON.stringify({ ok: true, serverTime: 2_000, desiredConfigHash: "b".repeat(64) });
    const { reporter, received, lines, logged } = reporterAnswering([
      { status: 503, body: "busy" },
      { status: 200, body: desired },
      { status: 400, body: '{"ok":false}' },
      { status: 200, body: desired },
    ]);
    await reporter.report();
    await reporter.report();
    await logged(/report #1 dropped/);
    await reporter.report();
    expect(await reporter.flush(5000)).toBe(0);

    expect(received.map((report) => report.agent.sequence)).toEqual([0, 0, 1, 2]);
    expect(received[3]?.upload.reportsDropped).toEqual({ rejected: 1 });
    expect(lines.filter((line) => line.includes("retry 1"))).toHaveLength(1);
    expect(lines).toContain("[0] report #1 dropped: the server rejected it");
    expect(lines.filter((line) => line.includes("a rollout is pending"))).toEqual([
      "[0] the server expects config bbbbbbbbbbbb; this agent runs aaaaaaaaaaaa (a rollout is pending)",
    ]);
  });
});
