// HTTP to one cluster with the kubeconfig's credentials and TLS settings
// (client-node's applySecurityAuthentication and its undici dispatcher), but
// with our own fetch so that lists are paged, watch errors keep their status
// and Retry-After, and every object arrives as plain JSON in one shape.

import { HttpMethod, RequestContext, type KubeConfig } from "@kubernetes/client-node";
import { fetch as undiciFetch } from "undici";

/** The part of fetch the transport uses; tests may wrap the real one (to count requests, say). */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponse>;
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  signal?: AbortSignal | undefined;
  dispatcher?: unknown;
}
export interface FetchResponse {
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}

/** A refused or failed request to the API server, with what the server said. */
export class KubeRequestError extends Error {
  /** HTTP status; 0 when no answer came (connection refused, reset, timeout). */
  readonly status: number;
  /** The Status object's reason (`Expired`, `NotFound`, `TooManyRequests`…), when there was one. */
  readonly reason: string | undefined;
  /** From the Retry-After header, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: {
      status: number;
      reason?: string | undefined;
      retryAfterMs?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
    this.name = "KubeRequestError";
    this.status = options.status;
    this.reason = options.reason;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** 410 Gone / Expired: the resourceVersion or continue token is too old; relist. */
  get expired(): boolean {
    return this.status === 410 || this.reason === "Expired" || this.reason === "Gone";
  }
}

export interface KubeTransport {
  /** The API server URL, for messages. */
  readonly server: string;
  /** GET a JSON document. Non-2xx answers throw KubeRequestError. */
  getJson(path: string, options?: { signal?: AbortSignal | undefined }): Promise<unknown>;
  /** GET a streamed body (watch, followed log) and hand out its lines. Non-2xx answers throw before the first line. */
  getLines(path: string, options?: { signal?: AbortSignal | undefined }): Promise<AsyncIterable<string>>;
  /** Closes the transport's connections; requests under way end with an error, later ones fail. */
  close(): Promise<void>;
}

export interface KubeTransportOptions {
  kubeConfig: KubeConfig;
  fetch?: FetchLike | undefined;
}

/** A transport for the kubeconfig's current context. */
export function createKubeTransport(options: KubeTransportOptions): KubeTransport {
  const { kubeConfig } = options;
  const doFetch: FetchLike = options.fetch ?? (undiciFetch as unknown as FetchLike);
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const server = cluster.server.replace(/\/+$/, "");
  // client-node builds a new undici Agent (TLS context, connection pool) on every
  // applySecurityAuthentication: used as is, each request would open a TLS connection
  // of its own and leave it open. The kubeconfig's TLS settings do not change, so
  // the first Agent serves every request of this transport, over kept-alive connections.
  let dispatcher: { destroy(): Promise<void> } | undefined;
  let closed = false;

  async function send(path: string, signal: AbortSignal | undefined, accept: string): Promise<FetchResponse> {
    const url = server + path;
    const context = new RequestContext(url, HttpMethod.GET);
    await kubeConfig.applySecurityAuthentication(context);
    if (closed) throw new KubeRequestError(`GET ${path}: the transport is closed`, { status: 0 });
    dispatcher ??= context.getDispatcher() as { destroy(): Promise<void> } | undefined;
    let response: FetchResponse;
    try {
      response = await doFetch(url, {
        method: "GET",
        headers: { ...context.getHeaders(), Accept: accept },
        signal,
        dispatcher,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new KubeRequestError(`GET ${path}: no answer from ${server}: ${describe(error)}`, {
        status: 0,
        cause: error,
      });
    }
    if (response.status >= 200 && response.status < 300) return response;
    const text = await response.text().catch(() => "");
    throw statusError(path, response, text);
  }

  return {
    server,
    async getJson(path, { signal } = {}) {
      const response = await send(path, signal, "application/json");
      const text = await response.text();
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new KubeRequestError(`GET ${path}: the answer is not JSON`, {
          status: response.status,
          cause: error,
        });
      }
    },
    async getLines(path, { signal } = {}) {
      const response = await send(path, signal, "application/json, */*");
      if (!response.body) throw new KubeRequestError(`GET ${path}: no body`, { status: response.status });
      return readLines(response.body);
    },
    async close() {
      closed = true;
      await dispatcher?.destroy().catch(() => undefined);
    },
  };
}

function statusError(path: string, response: FetchResponse, text: string): KubeRequestError {
  let reason: string | undefined;
  let message = text.trim().slice(0, 300);
  try {
    const status = JSON.parse(text) as { reason?: unknown; message?: unknown };
    if (typeof status.reason === "string") reason = status.reason;
    if (typeof status.message === "string") message = status.message;
  } catch {
    // not a Status object: keep the text
  }
  return new KubeRequestError(
    `GET ${path}: ${response.status} ${reason ?? response.statusText}${message ? `: ${message}` : ""}`,
    { status: response.status, reason, retryAfterMs: parseRetryAfter(response.headers.get("retry-after")) },
  );
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Lines of a UTF-8 byte stream; the last one may lack its newline. */
export async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let index: number;
      while ((index = buffer.indexOf("\n")) >= 0) {
        yield buffer.slice(0, index);
        buffer = buffer.slice(index + 1);
      }
    }
    buffer += decoder.decode();
    if (buffer !== "") yield buffer;
  } finally {
    // Ends the request when the consumer stops early; a cancel of an aborted stream may reject.
    await reader.cancel().catch(() => undefined);
  }
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
