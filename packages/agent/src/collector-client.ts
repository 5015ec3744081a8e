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
// tunnel with TLS to the collector inside it, made by `https-proxy-agent`
// (an agent for Node's own client: about 33 kB of plain JavaScript in the
// bundle with its dependencies, no measurable RSS) rather than by hand.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type http from "node:http";
import https from "node:https";
import { once } from "node:events";
import type net from "node:net";
import { HttpsProxyAgent, type HttpsProxyAgentOptions } from "https-proxy-agent";
import { bypassesProxy } from "@tapfleet/sensor/network";
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

/** The CA bundle the collector's certificate is checked against; a file that cannot be read is named with its variable. */
function readCaFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read the TLS CA file ${file} (VSENSOR_TLS_CA_FILE)`, { cause: error });
  }
}

export function createCollectorClient(options: CreateCollectorClientOptions): CollectorClient {
  const { settings } = options;
  const now = options.now ?? Date.now;
  const nonce = options.nonce ?? (() => randomBytes(16).toString("base64url"));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const host = settings.collectorHost.includes(":") ? `[${settings.collectorHost}]` : settings.collectorHost;
  const origin = `https://${host}:${settings.collectorPort}`;
  // Given with each request: the TLS session with the collector (inside the
  // tunnel through a proxy) takes them from there, the proxy's own does not.
  const tls = {
    ca: settings.tlsCaFile === undefined ? undefined : readCaFile(settings.tlsCaFile),
    servername: settings.tlsServerName,
    rejectUnauthorized: !settings.tlsInsecure,
  };
  const useProxy =
    settings.httpsProxy !== undefined && !bypassesProxy(settings.collectorHost, settings.noProxy);
  // Two uploads and a report may be in flight at once; connections are kept for the next ones.
  const agentOptions = { keepAlive: true, maxSockets: 4 };
  const agent = useProxy
    ? new CollectorProxyAgent(settings.httpsProxy!, timeoutMs, agentOptions)
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
          ...tls,
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
 * `https-proxy-agent`, which opens each connection as a CONNECT tunnel through
 * an HTTP(S) proxy (with Basic `Proxy-Authorization` from credentials in the
 * URL) and runs the TLS session with the collector inside it, so the proxy sees
 * only the collector's host and port. Two things are added here: a limit on
 * the CONNECT (the library waits as long as the proxy does), and an error that
 * names the proxy and its status for a refused CONNECT (the library would hand
 * the proxy's refusal back as if it were the collector's response).
 */
type ConnectOptions = Parameters<HttpsProxyAgent<string>["connect"]>[1];

class CollectorProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    private readonly timeoutMs: number,
    options: HttpsProxyAgentOptions<string>,
  ) {
    // The credentials go to the library as the header it would make of them,
    // not in the URL: with DEBUG=https-proxy-agent it logs the URL.
    const url = new URL(proxy);
    const headers: Record<string, string> = {};
    if (url.username !== "" || url.password !== "") {
      const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      headers["Proxy-Authorization"] = `Basic ${Buffer.from(credentials).toString("base64")}`;
      url.username = "";
      url.password = "";
    }
    super(url, { ...options, headers });
  }

  override async connect(request: http.ClientRequest, options: ConnectOptions): Promise<net.Socket> {
    const proxy = this.proxy.host;
    const host = options.host?.includes(":") === true ? `[${options.host}]` : options.host;
    const target = `${host}:${options.port}`;
    let refused: number | undefined;
    request.once("proxyConnect", (response: { statusCode: number }) => {
      if (response.statusCode !== 200) refused = response.statusCode;
    });
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    // The library opens its socket to the proxy, with these options, before its first await.
    const shared = this.connectOpts;
    this.connectOpts = { ...shared, signal: abort.signal };
    let socket: net.Socket;
    try {
      const connecting = super.connect(request, options);
      this.connectOpts = shared;
      socket = await connecting;
    } catch (error) {
      if (abort.signal.aborted)
        throw new Error(`proxy ${proxy}: CONNECT ${target} timed out`, { cause: error });
      throw error;
    } finally {
      this.connectOpts = shared;
      clearTimeout(timer);
    }
    if (refused !== undefined) {
      socket.destroy();
      throw new Error(`proxy ${proxy} refused CONNECT ${target}: HTTP ${refused}`);
    }
    return socket;
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
