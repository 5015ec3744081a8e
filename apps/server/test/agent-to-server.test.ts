// The whole path, agent to database: real agents capture known traffic on
// veth pairs in network namespaces and report over HTTPS to the real Tapfleet
// server (its own TLS listener, a registered cluster's key, real PostgreSQL).
// What the server stored — read back through its live bus, its database and
// its API — must match the traffic exactly, for each agent's interface rules.

import { STATS_TOPIC, subscribeTopic, type ReportSummary } from "@tapfleet/core";
import { createLiveBus, type LiveBus } from "@tapfleet/db";
import { summarizePcap, type InterfaceStats, type StatsReport } from "@tapfleet/sensor";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AgentProcess } from "../../../packages/agent/test/support/agent-process.ts";
import { startTinyproxy } from "../../../packages/agent/test/support/proxy.ts";
import {
  icmpUnreachableBytes,
  sendUdp,
  udpFrameBytes,
} from "../../../packages/agent/test/support/traffic.ts";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { createLabServer, type LabServer } from "./support/lab-server.ts";

const CLUSTER = "lab-cluster";

let t: LabServer;
let bus: LiveBus;
let ingestKey: string;
const stored = new (class StoredSummaries {
  readonly items: ReportSummary[] = [];
  private waiters = new Set<() => void>();
  add(summary: ReportSummary) {
    this.items.push(summary);
    for (const wake of this.waiters) wake();
  }
  /** The first summary of `node`, already stored or still to come, that satisfies `predicate`. */
  async next(
    node: string,
    predicate: (summary: ReportSummary) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<ReportSummary> {
    const find = () => this.items.find((s) => s.nodeName === node && predicate(s));
    const found = find();
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const last = this.items.filter((s) => s.nodeName === node).at(-1);
        reject(new Error(`timed out waiting for ${what}; last stored for ${node}: ${JSON.stringify(last)}`));
      }, timeoutMs);
      const check = () => {
        const match = find();
        if (!match) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(match);
      };
      this.waiters.add(check);
    });
  }
})();
const subscription = new AbortController();
const running: AgentProcess[] = [];

function launch(node: string, env: Record<string, string>, key = ingestKey): AgentProcess {
  const agent = t.launchAgent({ cluster: CLUSTER, node, key, env });
  running.push(agent);
  return agent;
}

/** Waits for the node's first stored report: every interface it selected is open from then on. */
async function firstStored(node: string, agent: AgentProcess): Promise<ReportSummary> {
  return Promise.race([
    stored.next(node, () => true, 20_000, `a first stored report from ${node}`),
    agent.exited.then((code) => {
      throw new Error(`agent ${node} exited with ${code}: ${agent.output.join("\n")}`);
    }),
  ]);
}

/** The report as the server stored it (the row's JSON), by node and sequence. */
async function storedReport(node: string, sequence: number): Promise<StatsReport> {
  const row = await t.db.sensorReport.findFirstOrThrow({
    where: { clusterId: CLUSTER, nodeName: node, sequence: BigInt(sequence) },
  });
  return row.report as unknown as StatsReport;
}

const counts = (summary: ReportSummary) =>
  Object.fromEntries(summary.interfaces.map((i) => [i.name, i.packets]));

beforeAll(async () => {
  t = await createLabServer({ links: [["t0"], ["t1", { ipv6: false }], ["t2", { ipv6: false }]] });
  bus = await createLiveBus({ url: t.databaseUrl });
  const iterator = subscribeTopic(bus, STATS_TOPIC, subscription.signal);
  void (async () => {
    for await (const summary of iterator) stored.add(summary);
  })().catch(() => undefined);
  ingestKey = await t.registerCluster(CLUSTER);
});

afterEach(async () => {
  for (const agent of running.splice(0)) await agent.stop();
});

afterAll(async () => {
  subscription.abort();
  await bus?.close();
  await t?.close();
});

// Generous: four agents, the server and PostgreSQL share two cores.
describe("agent to server", { timeout: 150_000 }, () => {
  it("stores exactly the traffic each agent's interface rules and BPF filter select", async () => {
    const settings: [node: string, env: Record<string, string>][] = [
      ["include-t0", { NETWORK_DEVICE_INCLUDELIST: "^t0$" }],
      ["exclude-t1", { NETWORK_DEVICE_INCLUDELIST: "^t", NETWORK_DEVICE_EXCLUDELIST: "t1" }],
      ["bpf-udp", { NETWORK_DEVICE_INCLUDELIST: "^t[01]$", BPF: "udp" }],
      // The device setting pins capture to one interface, whatever the lists say.
      ["device-t1", { OSSENSOR_NETWORK_DEVICE: "t1", NETWORK_DEVICE_INCLUDELIST: "^t0$" }],
    ];
    const firsts = await Promise.all(settings.map(([node, env]) => firstStored(node, launch(node, env))));
    expect(firsts.map((s) => Object.keys(counts(s)).sort())).toEqual([
      ["t0"],
      ["t0", "t2"],
      ["t0", "t1"],
      ["t1"],
    ]);

    const [t0, t1, t2] = [t.lab.links.get("t0")!, t.lab.links.get("t1")!, t.lab.links.get("t2")!];
    // To a closed port: every datagram draws one ICMP port unreachable back.
    await sendUdp(t.lab.senderNs, t0.agentV4, 5000, 20, 100);
    await sendUdp(t.lab.senderNs, t0.agentV6, 5000, 5, 100);
    await sendUdp(t.lab.senderNs, t1.agentV4, 5000, 10, 60);
    await sendUdp(t.lab.senderNs, t2.agentV4, 5000, 7, 80);
    const icmp6Bytes = (payload: number) => 14 + 40 + 8 + 40 + 8 + payload;
    const bytes = {
      t0:
        20 * (udpFrameBytes(100, 4) + icmpUnreachableBytes(100)) +
        5 * (udpFrameBytes(100, 6) + icmp6Bytes(100)),
      t0udp: 20 * udpFrameBytes(100, 4) + 5 * udpFrameBytes(100, 6),
      t1: 10 * (udpFrameBytes(60, 4) + icmpUnreachableBytes(60)),
      t1udp: 10 * udpFrameBytes(60, 4),
      t2: 7 * (udpFrameBytes(80, 4) + icmpUnreachableBytes(80)),
    };
    const expected: Record<string, Record<string, [packets: number, bytes: number]>> = {
      "include-t0": { t0: [50, bytes.t0] },
      "exclude-t1": { t0: [50, bytes.t0], t2: [14, bytes.t2] },
      "bpf-udp": { t0: [25, bytes.t0udp], t1: [10, bytes.t1udp] },
      "device-t1": { t1: [20, bytes.t1] },
    };
    for (const [node, interfaces] of Object.entries(expected)) {
      const packetsOf = Object.fromEntries(
        Object.entries(interfaces).map(([name, [packets]]) => [name, packets]),
      );
      const reached = await stored.next(
        node,
        (s) => JSON.stringify(counts(s)) === JSON.stringify(packetsOf),
        20_000,
        `${node} at ${JSON.stringify(packetsOf)}`,
      );
      // Two reports later nothing more has been counted: the counts are exact, not a lower bound.
      const later = await stored.next(
        node,
        (s) => s.sequence >= reached.sequence + 2,
        10_000,
        `${node} later`,
      );
      expect(counts(later), node).toEqual(packetsOf);
      const report = await storedReport(node, later.sequence);
      for (const [name, [packets, byteCount]] of Object.entries(interfaces)) {
        const stats = report.interfaces.find((i) => i.name === name);
        expect(stats, `${node} ${name}`).toMatchObject({ packets, bytes: byteCount, kernelDrops: 0 });
      }
    }

    const include = await storedReport(
      "include-t0",
      stored.items.filter((s) => s.nodeName === "include-t0").at(-1)!.sequence,
    );
    expect(include.interfaces[0]!.protocols).toEqual({
      ipv4: 40,
      ipv6: 10,
      tcp: 0,
      udp: 25,
      icmp: 25,
      other: 0,
    });
    // Top talkers are per interval; over every stored report they add up to the traffic.
    const talkers = new Map<string, number>();
    const rows = await t.db.sensorReport.findMany({
      where: { nodeName: "include-t0" },
      orderBy: { sequence: "asc" },
    });
    for (const row of rows)
      for (const talker of ((row.report as unknown as StatsReport).interfaces[0] as InterfaceStats)
        .topTalkers)
        talkers.set(talker.address, (talkers.get(talker.address) ?? 0) + talker.packets);
    expect(Object.fromEntries(talkers)).toEqual({
      [t0.senderV4]: 20,
      [t0.agentV4]: 20,
      [t0.senderV6]: 5,
      [t0.agentV6]: 5,
    });

    // The sensors list shows each node with its agent's identity and last counters.
    const listed = await t.api("GET", `/api/v1/sensors?clusterId=${CLUSTER}`);
    expect(listed.status).toBe(200);
    const sensors = (
      JSON.parse(listed.body.toString()) as { items: { id: string; nodeName: string; podName: string }[] }
    ).items;
    expect(sensors.map((s) => s.nodeName).sort()).toEqual([
      "bpf-udp",
      "device-t1",
      "exclude-t1",
      "include-t0",
    ]);
    expect(sensors.find((s) => s.nodeName === "include-t0")?.podName).toBe("tapfleet-agent-include-t0");

    // Every captured packet was forwarded in chunks: the sensor's pcap holds exactly the 50 packets of t0.
    const sensorId = sensors.find((s) => s.nodeName === "include-t0")!.id;
    const pcapPackets = async () => {
      const download = await t.api("GET", `/api/v1/sensors/${sensorId}/pcap?interface=t0`);
      return download.status === 200 ? packetsIn(download.body) : 0;
    };
    expect(
      await waitFor(pcapPackets, {
        until: (packets) => packets >= 50,
        timeoutMs: 15_000,
        intervalMs: 200,
        what: "50 packets in the pcap",
      }),
    ).toBe(50);
  });

  it("with NETWORK_DEVICE_ANY=1 stores an interface added mid-run, then its final counters when it vanishes", async () => {
    const first = await firstStored(
      "any",
      launch("any", { NETWORK_DEVICE_INCLUDELIST: "^t[0-9]$", NETWORK_DEVICE_ANY: "1" }),
    );
    expect(Object.keys(counts(first)).sort()).toEqual(["t0", "t1", "t2"]);
    try {
      const added = await t.lab.addLink("t5", { ipv6: false });
      await stored.next("any", (s) => "t5" in counts(s), 15_000, "t5 in a stored report");
      await sendUdp(t.lab.senderNs, added.agentV4, 5000, 6, 10);
      const reached = await stored.next("any", (s) => counts(s).t5 === 12, 15_000, "t5 at 12 packets");
      await t.lab.removeLink("t5");
      const without = await stored.next(
        "any",
        (s) => s.sequence > reached.sequence && !("t5" in counts(s)),
        15_000,
        "a stored report without t5",
      );
      expect(Object.keys(counts(without)).sort()).toEqual(["t0", "t1", "t2"]);
      // Every report that still listed t5 after the traffic had all 12 packets: none were lost to the removal.
      const listing = stored.items.filter(
        (s) => s.nodeName === "any" && s.sequence >= reached.sequence && "t5" in counts(s),
      );
      expect(listing.map((s) => counts(s).t5)).toEqual(listing.map(() => 12));
    } finally {
      await t.lab.removeLink("t5");
    }
  });

  it("reports through an HTTP CONNECT proxy and stores every report exactly once across a server restart", async () => {
    const proxy = startTinyproxy({ netns: t.lab.agentNs, port: 8888, allowPort: t.port });
    try {
      const agent = launch("proxied", {
        NETWORK_DEVICE_INCLUDELIST: "^t0$",
        HTTPS_PROXY: "http://127.0.0.1:8888",
      });
      const before = await stored.next("proxied", (s) => s.sequence >= 1, 20_000, "two stored reports");
      expect(agent.output.join("\n")).toContain("via proxy http://127.0.0.1:8888");
      expect(proxy.log()).toMatch(
        new RegExp(`CONNECT ${t.lab.collectorAddress.replace(/\./g, "\\.")}:${t.port}`),
      );

      // The server goes away; reports come due and fail...
      await t.stop();
      const failures = () => agent.output.filter((line) => /report #\d+ .*not sent/.test(line)).length;
      await waitFor(failures, {
        until: (failed) => failed >= 3,
        timeoutMs: 30_000,
        what: "three failed sends during the outage",
      });
      // ...and are delivered, in order, once it is back on the same address.
      await t.start();
      const after = await stored.next(
        "proxied",
        (s) => s.sequence >= before.sequence + 4,
        60_000,
        "reports after the restart",
      );
      const rows = await t.db.sensorReport.findMany({
        where: { nodeName: "proxied" },
        orderBy: { id: "asc" },
        select: { sequence: true },
      });
      const sequences = rows.map((row) => Number(row.sequence));
      // Stored once each (a resend whose answer was lost is acknowledged, not stored again), none missing, in order.
      expect(sequences.slice(0, after.sequence + 1)).toEqual(
        Array.from({ length: after.sequence + 1 }, (_, i) => i),
      );
    } finally {
      await proxy.stop();
    }
  });

  it("during a key rotation accepts agents on the old and the new key, and stores nothing from a wrong key", async () => {
    const rotated = await t.api("POST", `/api/v1/clusters/${CLUSTER}/rotate-key`, { graceHours: 1 });
    expect(rotated.status, rotated.body.toString()).toBe(200);
    const newKey = (JSON.parse(rotated.body.toString()) as { secret: string }).secret;
    expect(newKey).not.toBe(ingestKey);
    const env = { NETWORK_DEVICE_INCLUDELIST: "^t0$" };
    const wrong = launch("wrong-key", env, `${newKey.slice(0, -4)}AAAA`);
    await Promise.all([
      firstStored("old-key", launch("old-key", env, ingestKey)),
      firstStored("new-key", launch("new-key", env, newKey)),
    ]);
    await waitFor(() => wrong.output.find((line) => /report #0 .*HTTP 401 .*bad_signature/.test(line)), {
      timeoutMs: 15_000,
      what: "the wrong key refused with 401",
    });
    expect(await t.db.sensorReport.count({ where: { nodeName: "wrong-key" } })).toBe(0);
    expect(await t.db.sensor.count({ where: { nodeName: "wrong-key" } })).toBe(0);
  });
});

function packetsIn(pcap: Buffer): number {
  const summary = summarizePcap(pcap);
  if (!summary.ok) throw new Error(`the downloaded pcap is not valid: ${summary.message}`);
  return summary.summary.packetCount;
}
