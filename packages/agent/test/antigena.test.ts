// Antigena against real traffic: the test collector hands out response
// actions at the agent's signed polls, the built agent captures in a network
// namespace, and the uploaded pcap must hold exactly the packets sent during
// the snapshot that match both the action's filter and the sensor's BPF.

import { randomUUID } from "node:crypto";
import type { StatsReport } from "@tapfleet/sensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { requireTools } from "./support/run.ts";
import { sendLabelledUdp, udpRecords } from "./support/traffic.ts";

let lab: Lab;
let certificate: TestCertificate;
let collector: TestCollector;
let agent: AgentProcess;

const SENSOR_BPF = "not port 5003";

beforeAll(async () => {
  requireTools();
  await buildAgentBundle();
  certificate = createTestCertificate();
  lab = await createLab();
  await lab.addLink("t0", { ipv6: false });
  await lab.addLink("t1", { ipv6: false });
  collector = new TestCollector({
    host: lab.collectorAddress,
    keyId: TEST_CLUSTER,
    key: TEST_KEY,
    certificate,
  });
  await collector.start();
  agent = startAgent({
    netns: lab.agentNs,
    env: {
      ...baseEnv({ collectorHost: lab.collectorAddress, collectorPort: collector.port, certificate }),
      NETWORK_DEVICE_INCLUDELIST: "^t0$ ^t1$",
      BPF: SENSOR_BPF,
      ANTIGENA_ENABLED: "true",
      ANTIGENA_TIME_PERIOD: "1",
      OSSENSOR_DEBUG: "3",
    },
  });
  await Promise.race([
    collector.nextReport(() => true, 15_000, "a first report"),
    agent.exited.then((code) => {
      throw new Error(`agent exited with ${code}: ${agent.output.join("\n")}`);
    }),
  ]);
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await collector?.stop();
  await lab?.destroy();
});

function snapshotAction(params: Record<string, unknown>, type = "pcap_snapshot"): string {
  const id: string = randomUUID();
  collector.actions.push({
    id,
    type,
    requestedAt: Date.now(),
    deadlineAt: Date.now() + 120_000,
    params: { filter: "", durationSeconds: 3, maxBytes: 1 << 20, maxPackets: 1000, ...params },
  });
  return id;
}

const startedLine = (id: string) => () =>
  agent.output.find((line) => line.includes(`snapshot ${id} started`));

describe("agent antigena", { timeout: 90_000 }, () => {
  it("captures exactly the matching packets sent during the snapshot, on every captured interface, and uploads them", async () => {
    const t0 = lab.links.get("t0")!;
    const t1 = lab.links.get("t1")!;
    // Before the snapshot: captured by the agent, but not part of it.
    await sendLabelledUdp(lab.senderNs, [{ address: t0.agentV4, port: 5001, count: 10, prefix: "before" }]);

    // 8 s leaves the sender room to start on a busy machine; checked below.
    const id = snapshotAction({ durationSeconds: 8, filter: "udp and (dst port 5001 or dst port 5003)" });
    const line = await waitFor(startedLine(id), {
      timeoutMs: 20_000,
      what: () => `the snapshot to start:\n${agent.output.slice(-10).join("\n")}`,
    });
    // The action's filter, the sensor's BPF and the own-traffic exclusion, all at once.
    expect(line).toContain(
      `with filter "((${SENSOR_BPF}) and not (tcp and (host ${lab.collectorAddress}) and port ${collector.port})) and (udp and (dst port 5001 or dst port 5003))"`,
    );
    expect(line).toContain("started on t0, t1");
    await sendLabelledUdp(lab.senderNs, [
      { address: t0.agentV4, port: 5001, count: 15, prefix: "t0-match" },
      { address: t1.agentV4, port: 5001, count: 5, prefix: "t1-match" },
      { address: t0.agentV4, port: 5002, count: 10, prefix: "other-port" },
      { address: t0.agentV4, port: 5003, count: 10, prefix: "sensor-bpf" },
    ]);
    const sentBy = Date.now();

    const result = await collector.nextResult(id, 30_000);
    expect(result.metadata).toMatchObject({
      status: "succeeded",
      endedBy: "duration",
      interfaces: ["t0", "t1"],
      packetCount: 20,
      agent: { clusterId: TEST_CLUSTER, nodeName: "lab-node" },
    });
    // Otherwise the sender was too slow for the window and the exact count below proves nothing.
    expect(sentBy, "all packets were sent before the snapshot ended").toBeLessThan(
      result.metadata.startedAt! + 8000,
    );
    const records = udpRecords(result.pcap);
    expect(records.every((record) => record.destinationPort === 5001)).toBe(true);
    expect(records.map((record) => record.payload).sort()).toEqual(
      [
        ...Array.from({ length: 15 }, (_, i) => `t0-match-${i}`),
        ...Array.from({ length: 5 }, (_, i) => `t1-match-${i}`),
      ].sort(),
    );
    // The file is in time order.
    const stamps = records.map((record) => record.atUs);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));

    // The next reports carry the Antigena counters.
    const report: StatsReport = await collector.nextReport(
      (r) => (r.antigena?.actionsSucceeded ?? 0) >= 1,
      10_000,
      "Antigena counters with one action succeeded",
    );
    expect(report.antigena).toMatchObject({
      pollsFailed: 0,
      actionsReceived: 1,
      actionsSucceeded: 1,
      actionsFailed: 0,
    });
    expect(report.antigena!.pollsOk).toBeGreaterThan(0);
    expect(
      agent.output.some((l) =>
        /\[1\] antigena: polls \d+ ok, 0 failed; actions 1 received, 1 succeeded/.test(l),
      ),
    ).toBe(true);
  });

  it("ends a snapshot at its packet bound", async () => {
    const t0 = lab.links.get("t0")!;
    const id = snapshotAction({
      durationSeconds: 60,
      interface: "t0",
      filter: "udp dst port 5004",
      maxPackets: 3,
    });
    await waitFor(startedLine(id), { timeoutMs: 20_000, what: "the bounded snapshot to start" });
    await sendLabelledUdp(lab.senderNs, [{ address: t0.agentV4, port: 5004, count: 10, prefix: "bounded" }]);
    const result = await collector.nextResult(id, 20_000);
    expect(result.metadata).toMatchObject({
      status: "succeeded",
      endedBy: "max_packets",
      packetCount: 3,
      interfaces: ["t0"],
    });
    expect(udpRecords(result.pcap).map((record) => record.payload)).toEqual([
      "bounded-0",
      "bounded-1",
      "bounded-2",
    ]);
  });

  it("fails, with a reason, an interface the sensor does not capture, a filter libpcap refuses and an action type it does not know", async () => {
    const elsewhere = snapshotAction({ interface: "up0" });
    const badFilter = snapshotAction({ filter: "udp port 99999" });
    const unknown = snapshotAction({}, "quarantine_host");
    const [a, b, c] = await Promise.all([
      collector.nextResult(elsewhere, 20_000),
      collector.nextResult(badFilter, 20_000),
      collector.nextResult(unknown, 20_000),
    ]);
    expect(a.metadata).toMatchObject({
      status: "failed",
      reason: "interface up0 is not captured by this sensor (it captures t0, t1)",
      pcapBytes: 0,
    });
    expect(b.metadata.status).toBe("failed");
    expect(b.metadata.reason).toMatch(/^cannot capture on t0 with filter ".*udp port 99999.*" \(libpcap: /);
    expect(c.metadata.status).toBe("failed");
    expect(c.metadata.reason).toMatch(
      /^action type "quarantine_host" \(or its parameters\) is not supported by tapfleet-agent/,
    );
    const report = await collector.nextReport(
      (r) => (r.antigena?.actionsFailed ?? 0) >= 3,
      10_000,
      "three failed actions counted",
    );
    expect(report.antigena).toMatchObject({ actionsReceived: 5, actionsSucceeded: 2, actionsFailed: 3 });
    // Each action ran once, although it was handed out at every poll until its result came in.
    expect(
      collector.results.filter((r) => [elsewhere, badFilter, unknown].includes(r.metadata.actionId)),
    ).toHaveLength(3);
  });

  it("counts failed polls while the server is away, backs off, and polls again when it is back", async () => {
    const failedBefore = agent.output.filter((line) => line.includes("antigena: poll failed")).length;
    await collector.stop();
    await waitFor(() => agent.output.filter((line) => line.includes("antigena: poll failed")).length, {
      until: (failed) => failed >= failedBefore + 2,
      timeoutMs: 20_000,
      what: "two failed polls",
    });
    const pollsBefore = collector.polls.length;
    await collector.start();
    const report = await collector.nextReport(
      (r) => (r.antigena?.pollsFailed ?? 0) >= 2,
      30_000,
      "the failed polls counted",
    );
    expect(report.antigena!.pollsFailed).toBeGreaterThanOrEqual(2);
    await waitFor(() => collector.polls.length, {
      until: (polls) => polls > pollsBefore,
      timeoutMs: 30_000,
      what: "a poll after the outage",
    });
    // Each retry waits at least the period (1 s) plus a jittered backoff.
    const delays = agent.output
      .filter((line) => line.includes("antigena: poll failed"))
      .map((line) => Number(/next in (\d+) ms/.exec(line)?.[1]));
    expect(delays.every((delay) => delay >= 1000 && delay <= 1000 + 30_000)).toBe(true);
  });
});
