// The agent against real traffic: network namespaces and veth pairs, a real
// HTTPS collector that verifies signatures, the built agent as a child
// process. Counts are exact because the lab's links carry only what the
// test sends (no ARP, no IPv6 autoconfiguration, no multicast reports).

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
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { requireTools, run } from "./support/run.ts";
import { icmpUnreachableBytes, sendUdp, udpFrameBytes } from "./support/traffic.ts";

let lab: Lab;
let certificate: TestCertificate;
const running: Array<{ agent: AgentProcess; collector: TestCollector }> = [];

beforeAll(async () => {
  requireTools();
  await buildAgentBundle();
  certificate = createTestCertificate();
  lab = await createLab();
  await lab.addLink("t0");
  await lab.addLink("t1", { ipv6: false });
  await lab.addLink("t2", { ipv6: false });
});

afterEach(async () => {
  for (const { agent, collector } of running.splice(0)) {
    await agent.stop();
    await collector.stop();
  }
});

afterAll(async () => {
  await lab?.destroy();
});

async function launch(
  env: Record<string, string>,
): Promise<{ agent: AgentProcess; collector: TestCollector; first: StatsReport }> {
  const collector = new TestCollector({
    host: lab.collectorAddress,
    keyId: TEST_CLUSTER,
    key: TEST_KEY,
    certificate,
  });
  await collector.start();
  const agent = startAgent({
    netns: lab.agentNs,
    env: {
      ...baseEnv({ collectorHost: lab.collectorAddress, collectorPort: collector.port, certificate }),
      ...env,
    },
  });
  running.push({ agent, collector });
  // The first report is built after every selected interface is open: traffic sent from now on is seen.
  const first = await Promise.race([
    collector.nextReport(() => true, 15_000, "a first report"),
    agent.exited.then((code) => {
      throw new Error(`agent exited with ${code}: ${agent.output.join("\n")}`);
    }),
  ]);
  return { agent, collector, first };
}

const names = (report: StatsReport): string[] => report.interfaces.map((item) => item.name).sort();
const find = (report: StatsReport, name: string) => report.interfaces.find((item) => item.name === name);

// Generous: the lab shares two cores with other work, and each step waits for real reports.
describe("agent capture", { timeout: 90_000 }, () => {
  it("counts packets, bytes, protocols and talkers exactly at low rates, and forwards every packet in chunks", async () => {
    const { collector, first, agent } = await launch({ NETWORK_DEVICE_INCLUDELIST: "^t0$" });
    expect(names(first)).toEqual(["t0"]);
    const link = lab.links.get("t0")!;
    // To a closed port: each datagram draws one ICMP port unreachable back.
    await sendUdp(lab.senderNs, link.agentV4, 5000, 40, 100, 200);
    await sendUdp(lab.senderNs, link.agentV6, 5000, 10, 100, 200);
    const icmp6Bytes = 14 + 40 + 8 + 40 + 8 + 100;
    const expectedBytes =
      40 * (udpFrameBytes(100, 4) + icmpUnreachableBytes(100)) + 10 * (udpFrameBytes(100, 6) + icmp6Bytes);
    const report = await collector.nextReport(
      (r) => (find(r, "t0")?.packets ?? 0) >= 100,
      15_000,
      "t0 at 100 packets",
    );
    const t0 = find(report, "t0")!;
    expect(t0).toMatchObject({ packets: 100, bytes: expectedBytes, kernelDrops: 0, interfaceDrops: 0 });
    expect(t0.protocols).toEqual({ ipv4: 80, ipv6: 20, tcp: 0, udp: 50, icmp: 50, other: 0 });
    // Top talkers are per interval; across the intervals the traffic spanned, they add up.
    const talkers = new Map<string, number>();
    for (const r of collector.reports)
      for (const talker of find(r, "t0")?.topTalkers ?? [])
        talkers.set(talker.address, (talkers.get(talker.address) ?? 0) + talker.packets);
    expect(Object.fromEntries(talkers)).toEqual({
      [link.senderV4]: 40,
      [link.agentV4]: 40,
      [link.senderV6]: 10,
      [link.agentV6]: 10,
    });
    // Nothing more arrives afterwards: the counts are exact, not a lower bound.
    const later = await collector.nextReport(
      (r) => r.agent.sequence >= report.agent.sequence + 2,
      10_000,
      "two more reports",
    );
    expect(find(later, "t0")?.packets).toBe(100);
    const chunked = await waitFor(
      () =>
        collector.chunks
          .filter((chunk) => chunk.metadata.interface === "t0")
          .reduce((sum, chunk) => sum + chunk.metadata.packetCount, 0),
      { until: (total) => total >= 100, timeoutMs: 10_000, what: "100 packets in chunks" },
    );
    expect(chunked).toBe(100);
    expect(later.upload.chunksSent).toBe(collector.chunks.length);
    expect(later.upload.chunksDropped).toEqual({});
    // SIGTERM: a final report, delivered before a clean exit.
    const sentBefore = collector.reports.length;
    expect(await agent.stop()).toBe(0);
    expect(collector.reports.length).toBeGreaterThan(sentBefore);
    expect(find(collector.reports.at(-1)!, "t0")?.packets).toBe(100);
  });

  it("with no lists captures every interface but loopback, leaving its own uploads out", async () => {
    const { first, collector } = await launch({});
    expect(names(first)).toEqual(["t0", "t1", "t2", "up0"]);
    // Reports and chunks go to the collector over up0; captured, they would be forwarded again and again.
    const later = await collector.nextReport(
      (r) => r.agent.sequence >= first.agent.sequence + 3,
      10_000,
      "three more reports",
    );
    expect(find(later, "up0")!.protocols.tcp).toBe(0);
  });

  it("captures loopback when an include pattern names it, and the exclude list wins over the include list", async () => {
    const { collector, first } = await launch({
      NETWORK_DEVICE_INCLUDELIST: "^t lo",
      NETWORK_DEVICE_EXCLUDELIST: "t1",
    });
    expect(names(first)).toEqual(["lo", "t0", "t2"]);
    await sendUdp(lab.senderNs, lab.links.get("t1")!.agentV4, 5000, 5, 10);
    await sendUdp(lab.senderNs, lab.links.get("t2")!.agentV4, 5000, 5, 10);
    const report = await collector.nextReport(
      (r) => find(r, "t2")?.packets === 10,
      15_000,
      "t2 at 10 packets",
    );
    expect(names(report)).toEqual(["lo", "t0", "t2"]);
  });

  it("captures exactly OSSENSOR_NETWORK_DEVICE when set, ignoring the lists", async () => {
    const { first, agent } = await launch({
      OSSENSOR_NETWORK_DEVICE: "t1",
      NETWORK_DEVICE_INCLUDELIST: "^t0$",
    });
    expect(names(first)).toEqual(["t1"]);
    expect(agent.output.join("\n")).toContain("OSSENSOR_NETWORK_DEVICE: pins capture to one interface");
  });

  it("applies the BPF filter to every capture", async () => {
    const { collector } = await launch({ NETWORK_DEVICE_INCLUDELIST: "^t", BPF: "udp and dst port 5001" });
    const [t0, t2] = [lab.links.get("t0")!, lab.links.get("t2")!];
    await sendUdp(lab.senderNs, t0.agentV4, 5001, 7, 20);
    await sendUdp(lab.senderNs, t0.agentV4, 5002, 9, 20);
    await sendUdp(lab.senderNs, t2.agentV4, 5001, 3, 20);
    const report = await collector.nextReport(
      (r) => find(r, "t0")?.packets === 7 && find(r, "t2")?.packets === 3,
      15_000,
      "t0 at 7 and t2 at 3",
    );
    expect(find(report, "t0")!.protocols).toEqual({ ipv4: 7, ipv6: 0, tcp: 0, udp: 7, icmp: 0, other: 0 });
    expect(find(report, "t1")!.packets).toBe(0);
  });

  it("exits 2 with one line when libpcap refuses the filter", async () => {
    const agent = startAgent({
      netns: lab.agentNs,
      env: {
        ...baseEnv({ collectorHost: lab.collectorAddress, collectorPort: 9, certificate }),
        NETWORK_DEVICE_INCLUDELIST: "^t",
        BPF: "net 10.0.0.1/8",
      },
    });
    expect(await agent.exited).toBe(2);
    const errors = agent.output.filter((line) => line.startsWith("tapfleet-agent:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^tapfleet-agent: BPF: libpcap rejected the filter "net 10.0.0.1\/8": .*non-network bits/,
    );
  });

  it("with NETWORK_DEVICE_ANY=1 captures an interface added mid-run and lets go of it when it vanishes", async () => {
    const { collector, first } = await launch({ NETWORK_DEVICE_INCLUDELIST: "^t", NETWORK_DEVICE_ANY: "1" });
    expect(names(first)).toEqual(["t0", "t1", "t2"]);
    try {
      const added = await lab.addLink("t5", { ipv6: false });
      await collector.nextReport((r) => find(r, "t5") !== undefined, 15_000, "t5 in a report");
      await sendUdp(lab.senderNs, added.agentV4, 5000, 6, 10);
      await collector.nextReport((r) => find(r, "t5")?.packets === 12, 15_000, "t5 at 12 packets");
      await lab.removeLink("t5");
      const without = await collector.nextReport(
        (r) => find(r, "t5") === undefined,
        15_000,
        "a report without t5",
      );
      expect(names(without)).toEqual(["t0", "t1", "t2"]);
    } finally {
      await lab.removeLink("t5");
    }
  });

  it("with NETWORK_DEVICE_ANY=0 ignores interfaces that appear after start", async () => {
    const { collector, agent } = await launch({ NETWORK_DEVICE_INCLUDELIST: "^t" });
    await lab.addLink("t6", { ipv6: false });
    try {
      // The agent polls interfaces every second: three reports later it has seen t6 and left it alone.
      const seen = await collector.nextReport(() => true, 5000, "a report");
      const later = await collector.nextReport(
        (r) => r.agent.sequence >= seen.agent.sequence + 3,
        10_000,
        "three more reports",
      );
      expect(names(later)).toEqual(["t0", "t1", "t2"]);
      expect(agent.output.join("\n")).not.toContain("capturing on t6");
    } finally {
      await lab.removeLink("t6");
    }
  });

  it("reopens the capture when its interface goes down and up, slowly or in a quick flap", async () => {
    const { collector, agent } = await launch({ NETWORK_DEVICE_INCLUDELIST: "^t2$" });
    const link = lab.links.get("t2")!;
    const count = (pattern: RegExp): number => agent.output.filter((line) => pattern.test(line)).length;
    const setLink = (state: "up" | "down") =>
      run("ip", ["netns", "exec", lab.agentNs, "ip", "link", "set", "t2", state]);
    await sendUdp(lab.senderNs, link.agentV4, 5000, 3, 10);
    // Counted before the link goes down (packets still in the kernel ring when it does are lost with the socket).
    await collector.nextReport((r) => find(r, "t2")?.protocols.udp === 3, 15_000, "t2 at 3 UDP packets");
    await setLink("down");
    await waitFor(() => count(/stopped capturing on t2: interface down/), {
      until: (stops) => stops === 1,
      timeoutMs: 10_000,
      what: "the agent noticing t2 down",
    });
    await setLink("up");
    await waitFor(() => count(/capturing on t2 \(link type/), {
      until: (opens) => opens === 2,
      timeoutMs: 10_000,
      what: "the capture on t2 reopened",
    });
    // Down and up between two interface polls: only the carrier change counter tells.
    await setLink("down");
    await setLink("up");
    await waitFor(() => count(/capturing on t2 \(link type/), {
      until: (opens) => opens === 3,
      timeoutMs: 10_000,
      what: "the capture reopened after a quick flap",
    });
    await sendUdp(lab.senderNs, link.agentV4, 5000, 4, 10);
    const report = await collector.nextReport(
      (r) => find(r, "t2")?.protocols.udp === 7,
      15_000,
      "t2 at 7 UDP packets",
    );
    expect(find(report, "t2")!.protocols).toMatchObject({ ipv4: 14, udp: 7, icmp: 7 });
  });

  it("logs by OSSENSOR_DEBUG level: 0 has no stats lines, 5 dumps packets as hex", async () => {
    const quiet = await launch({ NETWORK_DEVICE_INCLUDELIST: "^t0$", OSSENSOR_DEBUG: "0" });
    await quiet.collector.nextReport((r) => r.agent.sequence >= 1, 10_000, "a second report");
    expect(quiet.agent.output.some((line) => / \[[1-5]\] /.test(line))).toBe(false);
    expect(quiet.agent.output.some((line) => / \[0\] capturing on t0/.test(line))).toBe(true);

    const loud = await launch({ NETWORK_DEVICE_INCLUDELIST: "^t0$", OSSENSOR_DEBUG: "5" });
    await sendUdp(lab.senderNs, lab.links.get("t0")!.agentV4, 5003, 1, 16);
    await loud.collector.nextReport((r) => find(r, "t0")?.packets === 2, 10_000, "t0 at 2 packets");
    const text = loud.agent.output.join("\n");
    expect(text).toMatch(/\[5\] packet on t0, 58 bytes:/);
    // The 16-byte payload of "a"s, as hex and as text.
    expect(text).toMatch(/( 61){6}\s+\|[^|]*aaaaaa\|/);
    expect(text).toMatch(/\[4\] chunk t0: 2 packets/);
    expect(text).toMatch(/\[2\] report #\d+ \(\d+ bytes\) sent: HTTP 200/);
    expect(text).toMatch(/\[1\] stats t0: 2 packets/);
  });
});
