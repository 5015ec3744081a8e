// Signed HTTPS requests to the collector (the Tapfleet server's /ingest),
// through HTTPS_PROXY unless NO_PROXY covers the collector. There is one
// destination, so the proxy decision is made once, with the sensor
// contract's own NO_PROXY rules (`bypassesProxy`), the same ones the
// NetworkPolicy is rendered from, rather than with a second implementation.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { bypassesProxy, signRequest, type ResolvedSensorSettings } from "@tapfleet/sensor";
import { Agent, ProxyAgent, request, type Dispatcher } from "undici";

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
  /** Signs and POSTs; rejects on network errors only (any HTTP status resolves). */
  post(path: string, body: Uint8Array | string, contentType: string): Promise<CollectorResponse>;
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
  /** For tests: replaces undici's dispatcher. */
  dispatcher?: Dispatcher;
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
  const dispatcher =
    options.dispatcher ??
    (useProxy
      ? new ProxyAgent({
          uri: settings.httpsProxy!,
          requestTls: tls,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        })
      : new Agent({ connect: tls, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }));
  async function send(
    method: "GET" | "POST",
    path: string,
    body: Uint8Array | string,
    contentType: string | undefined,
  ): Promise<CollectorResponse> {
    const headers = signRequest({
      method,
      path,
      body,
      keyId: settings.keyId,
      key: settings.hmacKey,
      now: now(),
      nonce: nonce(),
    });
    const response = await request(`${origin}${path}`, {
      method,
      dispatcher,
      ...(method === "POST" ? { body } : {}),
      headers: contentType === undefined ? headers : { ...headers, "content-type": contentType },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.statusCode, body: await response.body.text() };
  }
  return {
    origin,
    proxy: useProxy ? redactCredentials(settings.httpsProxy!) : undefined,
    peer: useProxy
      ? proxyPeer(settings.httpsProxy!)
      : { host: settings.collectorHost, port: settings.collectorPort },
    post: (path, body, contentType) => send("POST", path, body, contentType),
    get: (path) => send("GET", path, "", undefined),
    async close() {
      await dispatcher.close();
    },
  };
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
