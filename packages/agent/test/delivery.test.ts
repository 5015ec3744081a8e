// Getting reports and chunks to the collector: through a real HTTP CONNECT
// proxy (tinyproxy) or around it (NO_PROXY), across a collector outage
// without losing a report, and under a slow collector or a bandwidth cap
// without growing memory.

import type { StatsReport } from "@tapfleet/sensor";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  baseEnv,
  buildAgentBundle,
  startAgent,
  TEST_CLUSTER,
  TEST_KEY,
  type AgentProcess,
} from "./support/agent-process.ts";
import { createTestCertificate, TestCollector, type TestCertificate } from "./support/collector.ts";
import { createLab, type Lab } from "./support/lab.ts";
import { startTinyproxy, type Tinyproxy } from "./support/proxy.ts";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { requireTools } from "./support/run.ts";
import { sendUdp } from "./support/traffic.ts";

let lab: Lab;
let certificate: TestCertificate;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  requireTools();
  await buildAgentBundle();
  certificate = createTestCertificate();
  lab = await createLab();
  await lab.addLink("t0", { ipv6: false });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await lab?.destroy();
});

async function startCollector(
  options: { port?: number; chunkDelayMs?: number } = {},
): Promise<TestCollector> {
  const collector = new TestCollector({
    host: lab.collectorAddress,
    keyId: TEST_CLUSTER,
    key: TEST_KEY,
    certificate,
    ...options,
  });
  await collector.start();
  cleanups.push(() => collector.stop());
  return collector;
}

function launch(collector: TestCollector, env: Record<string, string>): AgentProcess {
  const agent = startAgent({
    netns: lab.agentNs,
    env: {
      ...baseEnv({ collectorHost: lab.collectorAddress, collectorPort: collector.port, certificate }),
      NETWORK_DEVICE_INCLUDELIST: "^t0$",
      ...env,
    },
  });
  cleanups.push(() => agent.stop());
  return agent;
}

function startProxy(
  port: number,
  allowPort: number,
  basicAuth?: { user: string; password: string },
): Tinyproxy {
  const proxy = startTinyproxy({ netns: lab.agentNs, port, allowPort, basicAuth });
  cleanups.push(() => proxy.stop());
  return proxy;
}

const sequences = (reports: StatsReport[]): number[] => reports.map((report) => report.agent.sequence);
const upTo = (last: number): number[] => Array.from({ length: last + 1 }, (_, index) => index);

// Generous: an outage waits out real backoff (up to 30 s between attempts).
describe("agent delivery", { timeout: 150_000 }, () => {
  it("sends through an HTTP CONNECT proxy (tinyproxy), and holds reports while the proxy is down", async () => {
    const collector = await startCollector();
    const agent = launch(collector, { HTTPS_PROXY: "http://127.0.0.1:8888" });
    // No proxy listening yet: the agent must not go around it.
    await waitFor(() => agent.output.find((line) => /report #0 .*not sent/.test(line)), {
      timeoutMs: 15_000,
      what: "a failed send while the proxy is down",
    });
    expect(collector.reports).toHaveLength(0);
    const proxy = startProxy(8888, collector.port);
    const report = await collector.nextReport(
      (r) => r.agent.sequence >= 3,
      45_000,
      "report #3 through the proxy",
    );
    expect(sequences(collector.reports)).toEqual(upTo(report.agent.sequence));
    await waitFor(() => proxy.log(), {
      until: (log) => log.includes("CONNECT"),
      timeoutMs: 5000,
      what: "a CONNECT in tinyproxy's log",
    });
    expect(proxy.log()).toMatch(
      new RegExp(
        `Connect \\(file descriptor \\d+\\): .*|CONNECT ${lab.collectorAddress.replace(/\./g, "\\.")}:${collector.port}`,
      ),
    );
    expect(agent.output.join("\n")).toContain("via proxy http://127.0.0.1:8888");
  });

  it("authenticates to the proxy with the credentials in HTTPS_PROXY, and never logs them", async () => {
    const collector = await startCollector();
    startProxy(8888, collector.port, { user: "tapfleet", password: "proxy-secret-7" });
    const agent = launch(collector, { HTTPS_PROXY: "http://tapfleet:proxy-secret-7@127.0.0.1:8888" });
    await collector.nextReport((r) => r.agent.sequence >= 1, 30_000, "two reports through the proxy");
    const output = agent.output.join("\n");
    expect(output).toContain("via proxy http://127.0.0.1:8888");
    expect(output).not.toContain("proxy-secret-7");
  });

  it("names the proxy and its status when the proxy refuses the CONNECT", async () => {
    const collector = await startCollector();
    // tinyproxy refuses a CONNECT to any port but this one.
    startProxy(8888, collector.port + 1);
    const agent = launch(collector, { HTTPS_PROXY: "http://127.0.0.1:8888" });
    // (A send before tinyproxy listens fails with ECONNREFUSED instead.)
    const refused = await waitFor(
      () => agent.output.find((line) => /report #\d+ .*not sent: .*CONNECT/.test(line)),
      { timeoutMs: 30_000, what: "a send refused by the proxy" },
    );
    expect(refused).toContain(
      `proxy 127.0.0.1:8888 refused CONNECT ${lab.collectorAddress}:${collector.port}: HTTP 403`,
    );
    expect(collector.reports).toHaveLength(0);
  });

  it("goes direct when NO_PROXY covers the collector (CIDR entry)", async () => {
    const collector = await startCollector();
    // Nothing listens on the proxy port: a report arriving proves the proxy was bypassed.
    const agent = launch(collector, {
      HTTPS_PROXY: "http://127.0.0.1:8899",
      NO_PROXY: "example.com,10.0.0.0/8",
    });
    await collector.nextReport(() => true, 15_000, "a report sent direct");
    expect(agent.output.join("\n")).not.toContain("via proxy");
  });

  it("loses no report across a collector outage and resends in order", async () => {
    const collector = await startCollector();
    const agent = launch(collector, {});
    const before = await collector.nextReport((r) => r.agent.sequence >= 1, 15_000, "two reports");
    await collector.stop();
    const failures = (): number => agent.output.filter((line) => /not sent/.test(line)).length;
    // Several reports come due during the outage.
    await waitFor(failures, {
      until: (failed) => failed >= 3,
      timeoutMs: 30_000,
      what: "three failed sends during the outage",
    });
    const restarted = new TestCollector({
      host: lab.collectorAddress,
      port: collector.port,
      keyId: TEST_CLUSTER,
      key: TEST_KEY,
      certificate,
    });
    await restarted.start();
    cleanups.push(() => restarted.stop());
    const after = await restarted.nextReport(
      (r) => r.agent.sequence >= before.agent.sequence + 4,
      60_000,
      "reports after the outage",
    );
    const all = sequences([...collector.reports, ...restarted.reports]);
    // Delivery is at least once: a report whose answer was cut by the outage is sent again (the
    // server dedupes on startedAt + sequence). None is missing and the order holds.
    expect([...new Set(all)]).toEqual(upTo(after.agent.sequence));
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(agent.output.join("\n")).not.toContain("dropped");
  });

  it("drops and counts chunks when the collector is slow instead of queueing them", async () => {
    const collector = await startCollector({ chunkDelayMs: 3000 });
    launch(collector, { TAPFLEET_CHUNK_MAX_BYTES: "1024" });
    await collector.nextReport(() => true, 15_000, "a first report");
    await sendUdp(lab.senderNs, lab.links.get("t0")!.agentV4, 5000, 400, 100);
    const report = await collector.nextReport(
      (r) => (r.upload.chunksDropped.queue_full ?? 0) > 0,
      20_000,
      "queue_full drops",
    );
    expect(report.upload.chunksDropped.bandwidth_cap).toBeUndefined();
  });

  it("keeps chunk uploads under TAPFLEET_UPLOAD_BYTES_PER_SECOND and counts what it drops", async () => {
    const collector = await startCollector();
    const startedAt = Date.now();
    launch(collector, { TAPFLEET_CHUNK_MAX_BYTES: "2048", TAPFLEET_UPLOAD_BYTES_PER_SECOND: "4096" });
    await collector.nextReport(() => true, 15_000, "a first report");
    await sendUdp(lab.senderNs, lab.links.get("t0")!.agentV4, 5000, 300, 100);
    const report = await collector.nextReport(
      (r) => (r.upload.chunksDropped.bandwidth_cap ?? 0) > 0 && r.upload.chunksSent > 0,
      20_000,
      "bandwidth_cap drops",
    );
    const seconds = (Date.now() - startedAt) / 1000;
    // The bucket starts full (4096 bytes) and refills at 4096 bytes per second.
    expect(report.upload.bytesSent).toBeLessThanOrEqual(4096 + 4096 * seconds);
    expect(collector.chunks.length).toBeGreaterThanOrEqual(report.upload.chunksSent);
  });
});
