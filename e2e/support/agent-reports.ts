// What a sensor's agent sends, built and signed as a real agent does, for the
// server tests (fetch) and the dashboard specs (Playwright's request) alike:
// no test framework here, only the protocol.
import { randomBytes } from "node:crypto";
import {
  encodeStatsReport,
  INGEST_PATHS,
  PROTOCOL_VERSION,
  signRequest,
  type AgentIdentity,
  type SignRequestOptions,
  type StatsReport,
} from "../../packages/sensor/src/protocol.ts";

export interface IngestKey {
  keyId: string;
  secret: string;
}

/** The signature headers of an agent's request; `overrides` forges or ages a signature. */
export function signAgentRequest(
  key: IngestKey,
  method: "GET" | "POST",
  path: string,
  body: Uint8Array,
  overrides: Partial<SignRequestOptions> = {},
): Record<string, string> {
  return signRequest({
    method,
    path,
    body,
    keyId: key.keyId,
    key: key.secret,
    now: Date.now(),
    nonce: randomBytes(16).toString("base64url"),
    ...overrides,
  });
}

/** A stats report from one agent: no interfaces and nothing uploaded unless `fields` says otherwise. */
export function agentStatsReport(
  agent: Pick<AgentIdentity, "clusterId" | "nodeName" | "sequence"> & Partial<AgentIdentity>,
  fields: Partial<Omit<StatsReport, "protocolVersion" | "agent">> = {},
): StatsReport {
  return {
    protocolVersion: PROTOCOL_VERSION,
    agent: {
      podName: `tapfleet-agent-${agent.nodeName}`,
      agentVersion: "0.3.1",
      configHash: "0123456789abcdef",
      startedAt: Date.now() - 60_000,
      ...agent,
    },
    sentAt: Date.now(),
    interfaces: [],
    upload: { chunksSent: 0, bytesSent: 0, chunksDropped: {} },
    ...fields,
  };
}

/** A report encoded and signed with the cluster's ingest key, ready to POST to `path`. */
export function signedStatsReport(key: IngestKey, report: StatsReport) {
  const body = Buffer.from(encodeStatsReport(report));
  const headers = signAgentRequest(key, "POST", INGEST_PATHS.reports, body);
  return { path: INGEST_PATHS.reports, headers: { ...headers, "content-type": "application/json" }, body };
}

/** Sends a signed report to the server at `baseUrl` over HTTP and returns the response. */
export async function postStatsReport(
  baseUrl: string,
  key: IngestKey,
  report: StatsReport,
): Promise<Response> {
  const request = signedStatsReport(key, report);
  return fetch(`${baseUrl}${request.path}`, {
    method: "POST",
    headers: request.headers,
    body: new Uint8Array(request.body),
  });
}
