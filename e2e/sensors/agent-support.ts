// What a sensor's agent sends, signed with its cluster's ingest key, for the sensors tests.
import { expect, type APIRequestContext } from "@playwright/test";
import { type InterfaceStats } from "../../packages/sensor/src/protocol.ts";
import { agentStatsReport, signedStatsReport, type IngestKey } from "../support/agent-reports.ts";
import { ADMIN, apiSignIn } from "../support/fixtures.ts";

export interface FakeAgent {
  clusterId: string;
  nodeName: string;
  podName: string;
}

const startedAt = Date.now() - 60_000;

export function agentIdentity(agent: FakeAgent, sequence: number) {
  return {
    clusterId: agent.clusterId,
    nodeName: agent.nodeName,
    podName: agent.podName,
    agentVersion: "0.1.0",
    configHash: "0123456789abcdef",
    startedAt,
    sequence,
  };
}

/** Counters of one captured interface, all zero. */
export function idleInterface(name: string): InterfaceStats {
  return {
    name,
    packets: 0,
    bytes: 0,
    kernelDrops: 0,
    interfaceDrops: 0,
    protocols: { ipv4: 0, ipv6: 0, tcp: 0, udp: 0, icmp: 0, other: 0 },
    topTalkers: [],
  };
}

/** Registers a cluster as the admin and returns its ingest key. */
export async function registerCluster(request: APIRequestContext, clusterId: string): Promise<IngestKey> {
  const cookie = await apiSignIn(request, ADMIN);
  const created = await request.post("/trpc/clusters.create", {
    headers: { cookie, "content-type": "application/json" },
    data: { id: clusterId },
  });
  expect(created.status(), await created.text()).toBe(200);
  return ((await created.json()) as { result: { data: IngestKey } }).result.data;
}

/** Sends one stats report and expects it stored. */
export async function sendReport(
  request: APIRequestContext,
  key: IngestKey,
  agent: FakeAgent,
  report: { sequence: number; reportIntervalSeconds?: number; interfaces?: InterfaceStats[] },
): Promise<void> {
  const signed = signedStatsReport(
    key,
    agentStatsReport(agentIdentity(agent, report.sequence), {
      ...(report.reportIntervalSeconds === undefined
        ? {}
        : { reportIntervalSeconds: report.reportIntervalSeconds }),
      interfaces: report.interfaces ?? [],
    }),
  );
  const sent = await request.post(signed.path, { headers: signed.headers, data: signed.body });
  expect(sent.status(), await sent.text()).toBe(200);
}
