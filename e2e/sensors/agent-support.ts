// What a sensor's agent sends, signed with its cluster's ingest key, for the sensors tests.
import { randomBytes } from "node:crypto";
import { expect, type APIRequestContext } from "@playwright/test";
import {
  encodeStatsReport,
  INGEST_PATHS,
  signRequest,
  type InterfaceStats,
} from "../../packages/sensor/src/protocol.ts";
import { ADMIN, apiSignIn } from "../support/fixtures.ts";

export interface IngestKey {
  keyId: string;
  secret: string;
}

export interface FakeAgent {
  clusterId: string;
  nodeName: string;
  podName: string;
}

/** The signature headers of an agent's request. */
export function agentRequest(key: IngestKey, method: "GET" | "POST", path: string, body: Uint8Array) {
  return signRequest({
    method,
    path,
    body,
    keyId: key.keyId,
    key: key.secret,
    now: Date.now(),
    nonce: randomBytes(16).toString("base64url"),
  });
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
  const body = Buffer.from(
    encodeStatsReport({
      protocolVersion: 1,
      agent: agentIdentity(agent, report.sequence),
      sentAt: Date.now(),
      ...(report.reportIntervalSeconds === undefined
        ? {}
        : { reportIntervalSeconds: report.reportIntervalSeconds }),
      interfaces: report.interfaces ?? [],
      upload: { chunksSent: 0, bytesSent: 0, chunksDropped: {} },
    }),
  );
  const sent = await request.post(INGEST_PATHS.reports, {
    headers: { ...agentRequest(key, "POST", INGEST_PATHS.reports, body), "content-type": "application/json" },
    data: body,
  });
  expect(sent.status(), await sent.text()).toBe(200);
}
