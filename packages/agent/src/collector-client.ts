// Signed HTTPS requests to the collector (the Tapfleet server's /ingest),
// through HTTPS_PROXY unless NO_PROXY covers the collector. There is one
// destination, so the proxy decision is made once, with the sensor
// contract's own NO_PROXY rules (`bypassesProxy`), the same ones the
// NetworkPolicy is rendered from, rather than with a second implementation.
//
// Node's own https client, with keep-alive, rather than a client library:
// the agent sends to one origin with POST and GET only, and loading undici
// cost the agent about 20 MB of its memory (its JavaScript, and llhttp as
// WebAssembly, which V8 recompiles in the background with another 36 MB
// for half a second). Through a proxy, each connection is an HTTP CONNECT
// tunnel with TLS to the collector inside it.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { once } from "node:events";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { bypassesProxy } from "@tapfleet/sensor/manifests";
import { signRequest, type SignableBody } from "@tapfleet/sensor/protocol";
import type { ResolvedSensorSettings } from "@tapfleet/sensor/settings";

export interface CollectorResponse {
  status: number;
  body: string;
}

export interface CollectorClient {
  /** Where requests go, for logs. */
  readonly origin: string;
  /** Through which proxy, if any. */
  readonly proxy: string | undefined;
  /** The host and port the agent's connections go to: the proxy when one is used, else the collector. */
  readonly peer: { host: string; port: number };
  /**
   * Signs and POSTs; rejects on network errors only (any HTTP status resolves).
   * A body in parts is sent part after part with their total as Content-Length, never copied into one.
   */
  post(path: string, body: SignableBody, contentType: string): Promise<CollectorResponse>;
  /** Signs (empty body) and GETs; rejects on network errors only. */
  get(path: string): Promise<CollectorResponse>;
  close(): Promise<void>;
}

export interface CreateCollectorClientOptions {
  settings: Pick<
    ResolvedSensorSettings,
    | "collectorHost"
    | "collectorPort"
    | "hmacKey"
    | "httpsProxy"
    | "noProxy"
    | "tlsCaFile"
    | "tlsServerName"
    | "tlsInsecure"
  > & { keyId: string };
  now?: () => number;
  nonce?: () => string;
  /** Per-request limit, so a stalled collector cannot hold a report forever. */
  timeoutMs?: number;
}

export function createCollectorClient(options: CreateCollectorClientOptions): CollectorClient {
  const { settings } = options;
  const now = options.now ?? Date.now;
  const nonce = options.nonce ?? (() => randomBytes(16).toString("base64url"));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const host = settings.collectorHost.includes(":") ? `[${settings.collectorHost}]` : settings.collectorHost;
  const origin = `https://${host}:${settings.collectorPort}`;
  const tls = {
    ca: settings.tlsCaFile === undefined ? undefined : readFileSync(settings.tlsCaFile, "utf8"),
    servername: settings.tlsServerName,
    rejectUnauthorized: !settings.tlsInsecure,
  };
  const useProxy =
    settings.httpsProxy !== undefined && !bypassesProxy(settings.collectorHost, settings.noProxy);
  // Two uploads and a report may be in flight at once; connections are kept for the next ones.
  const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets: 4, ...tls };
  const agent = useProxy
    ? new TunnelAgent(new URL(settings.httpsProxy!), timeoutMs, agentOptions)
    : new https.Agent(agentOptions);
  const send = (
    method: "GET" | "POST",
    path: string,
    body: SignableBody,
    contentType: string | undefined,
  ): Promise<CollectorResponse> => {
    const headers = signRequest({
      method,
      path,
      body,
      keyId: settings.keyId,
      key: settings.hmacKey,
      now: now(),
      nonce: nonce(),
    });
    // A body in parts goes out part after part: nothing is concatenated.
    const parts: readonly Uint8Array[] =
      typeof body === "string" ? [Buffer.from(body)] : body instanceof Uint8Array ? [body] : body;
    const length = parts.reduce((sum, part) => sum + part.byteLength, 0);
    return new Promise<CollectorResponse>((resolve, reject) => {
      const request = https.request(
        {
          host: settings.collectorHost,
          port: settings.collectorPort,
          path,
          method,
          agent,
          headers:
            method === "GET"
              ? headers
              : { ...headers, "content-type": contentType ?? "", "content-length": String(length) },
          signal: AbortSignal.timeout(timeoutMs),
        },
        (response) => {
          const received: Buffer[] = [];
          response.on("data", (data: Buffer) => received.push(data));
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(received).toString("utf8"),
            }),
          );
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      if (method === "GET") request.end();
      else void writeParts(request, parts).catch(reject);
    });
  };
  return {
    origin,
    proxy: useProxy ? redactCredentials(settings.httpsProxy!) : undefined,
    peer: useProxy
      ? proxyPeer(settings.httpsProxy!)
      : { host: settings.collectorHost, port: settings.collectorPort },
    post: (path, body, contentType) => send("POST", path, body, contentType),
    get: (path) => send("GET", path, "", undefined),
    close() {
      agent.destroy();
      return Promise.resolve();
    },
  };
}

/**
 * Writes the body in slices, waiting whenever the socket is behind: TLS
 * encrypts what it is given at once, so a 1 MiB write would hold a second,
 * encrypted megabyte in memory until the network took it.
 */
async function writeParts(request: http.ClientRequest, parts: readonly Uint8Array[]): Promise<void> {
  for (const part of parts) {
    for (let at = 0; at < part.byteLength; at += WRITE_SLICE_BYTES) {
      const slice = part.subarray(at, Math.min(at + WRITE_SLICE_BYTES, part.byteLength));
      if (!request.write(slice) && !request.destroyed) await once(request, "drain");
    }
  }
  request.end();
}

const WRITE_SLICE_BYTES = 64 * 1024;

/**
 * An https agent whose connections are CONNECT tunnels through an HTTP(S)
 * proxy: the TLS session with the collector runs inside the tunnel, so the
 * proxy sees only the collector's host and port.
 */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    private readonly timeoutMs: number,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  // Node's agent accepts a connection handed over later through the callback.
  override createConnection(
    options: tls.ConnectionOptions & { host?: string; port?: number },
    callback: (error: Error | null, socket?: Duplex) => void,
  ): undefined {
    const target = `${options.host?.includes(":") === true ? `[${options.host}]` : options.host}:${options.port}`;
    const headers: Record<string, string> = { host: target };
    if (this.proxy.username !== "" || this.proxy.password !== "") {
      const credentials = `${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`;
      headers["proxy-authorization"] = `Basic ${Buffer.from(credentials).toString("base64")}`;
    }
    const connect = (this.proxy.protocol === "https:" ? https : http).request({
      host: this.proxy.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: this.proxy.port === "" ? (this.proxy.protocol === "https:" ? 443 : 80) : Number(this.proxy.port),
      method: "CONNECT",
      path: target,
      headers,
      agent: false,
      timeout: this.timeoutMs,
    });
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      callback(error);
    };
    connect.once("timeout", () => connect.destroy(new Error(`proxy ${this.proxy.host}: CONNECT timed out`)));
    connect.once("error", fail);
    connect.once("connect", (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        fail(new Error(`proxy ${this.proxy.host} refused CONNECT ${target}: HTTP ${response.statusCode}`));
        return;
      }
      settled = true;
      const secure = tls.connect({ ...options, socket });
      callback(null, secure);
    });
    connect.end();
    return undefined;
  }
}

function proxyPeer(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const port = parsed.port === "" ? (parsed.protocol === "https:" ? 443 : 80) : Number(parsed.port);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port };
}

function redactCredentials(url: string): string {
  const parsed = new URL(url);
  if (parsed.username !== "" || parsed.password !== "") {
    parsed.username = "***";
    parsed.password = "";
  }
  return parsed.origin;
}
