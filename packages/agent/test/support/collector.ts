// A test collector: a real HTTPS server that verifies every request with the
// sensor contract's `verifyRequest`, decodes reports and chunks with its
// decoders, and keeps them in memory. The agent's own tests use it because it
// can be made slow or stopped on demand; apps/server/test/agent-to-server.test.ts
// runs agents against the real server's /ingest gateway.

import { spawnSync } from "node:child_process";
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import {
  decodeActionResultUpload,
  decodeChunkUpload,
  decodeStatsReport,
  INGEST_PATHS,
  MAX_ACTION_RESULT_BODY_BYTES,
  parseActionPollPath,
  verifyRequest,
  type ActionResultMetadata,
  type ChunkMetadata,
  type StatsReport,
} from "@tapfleet/sensor";
import { scratchDir } from "./run.ts";

export const COLLECTOR_SERVER_NAME = "collector.tapfleet.test";

export interface TestCertificate {
  directory: string;
  caFile: string;
  key: string;
  cert: string;
}

/** A self-signed certificate for COLLECTOR_SERVER_NAME; the agent trusts it through VSENSOR_TLS_CA_FILE. */
export function createTestCertificate(): TestCertificate {
  const directory = scratchDir("tls");
  const keyFile = path.join(directory, "key.pem");
  const certFile = path.join(directory, "cert.pem");
  const result = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${COLLECTOR_SERVER_NAME}`,
      "-addext",
      `subjectAltName=DNS:${COLLECTOR_SERVER_NAME}`,
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`openssl: ${result.stderr}`);
  return {
    directory,
    caFile: certFile,
    key: readFileSync(keyFile, "utf8"),
    cert: readFileSync(certFile, "utf8"),
  };
}

export interface ReceivedChunk {
  metadata: ChunkMetadata;
  pcap: Uint8Array;
}

export interface TestCollectorOptions {
  host: string;
  port?: number;
  keyId: string;
  key: string;
  certificate: TestCertificate;
  /** Delay before answering a chunk upload (a slow collector). */
  chunkDelayMs?: number;
  /** false: verify chunk signatures but neither decode nor keep the chunks (the benchmark's firehose). */
  keepChunks?: boolean;
}

export interface ReceivedResult {
  metadata: ActionResultMetadata;
  pcap: Uint8Array;
}

export class TestCollector extends EventEmitter {
  /** Antigena: actions handed out at every poll until their result arrives (as the server does). */
  readonly actions: Array<{ id: string } & Record<string, unknown>> = [];
  readonly results: ReceivedResult[] = [];
  /** Node names of the polls received. */
  readonly polls: string[] = [];
  readonly reports: StatsReport[] = [];
  readonly chunks: ReceivedChunk[] = [];
  readonly rejected: string[] = [];
  chunkBytes = 0;
  private server: Server | undefined;
  private readonly nonces = new Set<string>();
  port = 0;
  chunkDelayMs: number;

  constructor(private readonly options: TestCollectorOptions) {
    super();
    this.port = options.port ?? 0;
    this.chunkDelayMs = options.chunkDelayMs ?? 0;
  }

  async start(): Promise<void> {
    const server = createServer(
      { key: this.options.certificate.key, cert: this.options.certificate.cert },
      (request, response) => {
        const parts: Buffer[] = [];
        request.on("data", (part: Buffer) => parts.push(part));
        request.on("end", () => {
          void this.handle(
            request.method ?? "",
            request.url ?? "",
            request.headers,
            Buffer.concat(parts),
          ).then(async ({ status, body, delayMs }) => {
            if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
            response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
          });
        });
      },
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, this.options.host, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts open connections: an outage as the agent sees it. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(
    method: string,
    url: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
  ): Promise<{ status: number; body: unknown; delayMs: number }> {
    const serverTime = Date.now();
    const verified = await verifyRequest({
      method,
      path: url,
      headers,
      body,
      now: serverTime,
      maxBodyBytes: MAX_ACTION_RESULT_BODY_BYTES,
      keys: (keyId) => (keyId === this.options.keyId ? [this.options.key] : []),
      seenNonce: (nonce, keyId) => {
        const seen = this.nonces.has(`${keyId}/${nonce}`);
        this.nonces.add(`${keyId}/${nonce}`);
        return seen;
      },
    });
    if (!verified.ok) {
      this.rejected.push(`${verified.reason}: ${verified.message}`);
      return {
        status: 401,
        body: { ok: false, reason: verified.reason, message: verified.message, serverTime },
        delayMs: 0,
      };
    }
    if (method === "GET" && url.startsWith(`${INGEST_PATHS.actions}?`)) {
      const target = parseActionPollPath(url);
      if (!target.ok)
        return {
          status: 400,
          body: { ok: false, reason: "malformed", message: target.message, serverTime },
          delayMs: 0,
        };
      this.polls.push(target.nodeName);
      this.emit("poll", target.nodeName);
      return { status: 200, body: { ok: true, serverTime, actions: this.actions }, delayMs: 0 };
    }
    if (url === INGEST_PATHS.actionResults) {
      const decoded = decodeActionResultUpload(body);
      if (!decoded.ok) {
        this.rejected.push(decoded.message);
        return {
          status: 400,
          body: { ok: false, reason: "invalid_body", message: decoded.message, serverTime },
          delayMs: 0,
        };
      }
      const index = this.actions.findIndex((action) => action.id === decoded.value.metadata.actionId);
      if (index === -1)
        return {
          status: 404,
          body: { ok: false, reason: "unknown_action", message: "no such open action", serverTime },
          delayMs: 0,
        };
      this.actions.splice(index, 1);
      this.results.push(decoded.value);
      this.emit("result", decoded.value);
      return { status: 200, body: { ok: true, serverTime }, delayMs: 0 };
    }
    if (url === INGEST_PATHS.reports) {
      const decoded = decodeStatsReport(body);
      if (!decoded.ok) {
        this.rejected.push(decoded.message);
        return {
          status: 400,
          body: { ok: false, reason: "invalid_body", message: decoded.message, serverTime },
          delayMs: 0,
        };
      }
      this.reports.push(decoded.value);
      this.emit("report", decoded.value);
      return { status: 200, body: { ok: true, serverTime }, delayMs: 0 };
    }
    if (url === INGEST_PATHS.chunks && this.options.keepChunks === false) {
      this.chunkBytes += body.byteLength;
      return { status: 200, body: { ok: true, serverTime }, delayMs: this.chunkDelayMs };
    }
    if (url === INGEST_PATHS.chunks) {
      const decoded = decodeChunkUpload(body);
      if (!decoded.ok) {
        this.rejected.push(decoded.message);
        return {
          status: 400,
          body: { ok: false, reason: "invalid_body", message: decoded.message, serverTime },
          delayMs: 0,
        };
      }
      this.chunks.push(decoded.value);
      return { status: 200, body: { ok: true, serverTime }, delayMs: this.chunkDelayMs };
    }
    return {
      status: 404,
      body: { ok: false, reason: "malformed", message: "no such path", serverTime },
      delayMs: 0,
    };
  }

  /** Resolves with the result of the action (received from now on, or already). */
  nextResult(actionId: string, deadlineMs: number): Promise<ReceivedResult> {
    const found = this.results.find((result) => result.metadata.actionId === actionId);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("result", listener);
        reject(
          new Error(
            `no result for action ${actionId} within ${deadlineMs} ms; polls: ${this.polls.length}; rejected: ${this.rejected.slice(-3).join(" | ")}`,
          ),
        );
      }, deadlineMs);
      const listener = (result: ReceivedResult): void => {
        if (result.metadata.actionId !== actionId) return;
        clearTimeout(timer);
        this.off("result", listener);
        resolve(result);
      };
      this.on("result", listener);
    });
  }

  /** Resolves with the first report (received from now on) that satisfies `accept`. */
  nextReport(
    accept: (report: StatsReport) => boolean,
    deadlineMs: number,
    what: string,
  ): Promise<StatsReport> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("report", listener);
        const last = this.reports.at(-1);
        reject(
          new Error(
            `no report with ${what} within ${deadlineMs} ms; last report: ${last === undefined ? "none" : JSON.stringify({ sequence: last.agent.sequence, interfaces: last.interfaces.map((item) => ({ name: item.name, packets: item.packets, protocols: item.protocols })), upload: last.upload })}; rejected: ${this.rejected.slice(-3).join(" | ")}`,
          ),
        );
      }, deadlineMs);
      const listener = (report: StatsReport): void => {
        if (!accept(report)) return;
        clearTimeout(timer);
        this.off("report", listener);
        resolve(report);
      };
      this.on("report", listener);
    });
  }
}
