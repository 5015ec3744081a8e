// Capturing from a pcap file (TAPFLEET_CAPTURE_REPLAY_FILE): the real agent,
// without any capture privilege or interface, replays the file through
// libpcap's offline reader at the pace of its timestamps, in a loop, and
// reports and forwards the packets as if they came from an interface.

import { writeFileSync } from "node:fs";
import path from "node:path";
import { encodePcap, LINKTYPE, readPcap } from "@tapfleet/sensor/pcap";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import {
  baseEnv,
  buildAgentBundle,
  startAgent,
  TEST_CLUSTER,
  TEST_KEY,
  type AgentProcess,
} from "./support/agent-process.ts";
import { createTestCertificate, TestCollector, type TestCertificate } from "./support/collector.ts";
import { scratchDir } from "./support/run.ts";

/** 20 UDP datagrams 100 ms apart (a 2 s round), from 10.9.0.1 to 10.9.0.2, in the year 2001. */
function samplePcap(): Uint8Array {
  const records = Array.from({ length: 20 }, (_, i) => {
    const payload = Buffer.from(`replayed-${i}`);
    const frame = Buffer.alloc(14 + 20 + 8 + payload.length);
    frame.writeUInt16BE(0x0800, 12);
    frame[14] = 0x45;
    frame.writeUInt16BE(20 + 8 + payload.length, 16);
    frame[22] = 64;
    frame[23] = 17;
    Buffer.from([10, 9, 0, 1, 10, 9, 0, 2]).copy(frame, 26);
    frame.writeUInt16BE(40000, 34);
    frame.writeUInt16BE(5353, 36);
    frame.writeUInt16BE(8 + payload.length, 38);
    payload.copy(frame, 42);
    return { seconds: 1_000_000_000 + Math.floor(i / 10), fraction: (i % 10) * 100_000, data: frame };
  });
  return encodePcap({ linkType: LINKTYPE.ETHERNET, snapLength: 65535, records });
}

let certificate: TestCertificate;
let collector: TestCollector;
let replayFile: string;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  await buildAgentBundle();
  certificate = createTestCertificate();
  collector = new TestCollector({ host: "127.0.0.1", keyId: TEST_CLUSTER, key: TEST_KEY, certificate });
  await collector.start();
  replayFile = path.join(scratchDir("replay"), "sample.pcap");
  writeFileSync(replayFile, samplePcap());
});

afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});

afterAll(async () => {
  await collector?.stop();
});

function launch(env: Record<string, string>): AgentProcess {
  const agent = startAgent({
    env: {
      ...baseEnv({ collectorHost: "127.0.0.1", collectorPort: collector.port, certificate }),
      ...env,
    },
  });
  agents.push(agent);
  return agent;
}

describe("agent: capture replayed from a pcap file", () => {
  it("replays the file at its own pace, in a loop, stamped with the time of the replay", async () => {
    const startedAt = Date.now();
    const agent = launch({ TAPFLEET_CAPTURE_REPLAY_FILE: replayFile });
    const packetsIn = (index: number): number =>
      collector.reports[index]?.interfaces.find((item) => item.name === "replay0")?.packets ?? 0;
    // More than one round of the file (20 packets) arrives...
    await waitFor(() => collector.reports.length, {
      what: () => `reports counting more than 30 replayed packets; agent said: ${agent.output.join("\n")}`,
      timeoutMs: 15_000,
      until: (count) => count > 0 && packetsIn(count - 1) > 30,
    });
    const last = collector.reports.length - 1;
    const first = collector.reports.findIndex((report) => report.interfaces.some((item) => item.packets > 0));
    // ...at about 10 packets a second, the file's pace, not all at once.
    const seconds = (collector.reports[last]!.sentAt - collector.reports[first]!.sentAt) / 1000;
    const rate = (packetsIn(last) - packetsIn(first)) / seconds;
    expect(rate).toBeGreaterThan(5);
    expect(rate).toBeLessThan(15);
    expect(collector.reports[last]!.interfaces.map((item) => item.name)).toEqual(["replay0"]);
    expect(collector.reports[last]!.interfaces[0]!.protocols.udp).toBeGreaterThan(0);

    // Forwarded chunks carry the file's packets with the time they were replayed.
    await waitFor(() => collector.chunks.length, {
      what: "a forwarded chunk",
      timeoutMs: 5000,
      until: (n) => n > 0,
    });
    const { records } = readPcap(collector.chunks[0]!.pcap);
    expect(records.length).toBeGreaterThan(0);
    expect(records[0]!.atUs / 1000).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(Buffer.from(records[0]!.data).subarray(42).toString()).toMatch(/^replayed-\d+$/);
  });

  it("refuses a replay file that is not there, naming the variable", async () => {
    const agent = launch({ TAPFLEET_CAPTURE_REPLAY_FILE: "/nonexistent/demo.pcap" });
    expect(await agent.exited).toBe(2);
    expect(agent.output.join("\n")).toContain(
      "TAPFLEET_CAPTURE_REPLAY_FILE: no file at /nonexistent/demo.pcap",
    );
  });
});
