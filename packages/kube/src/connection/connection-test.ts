// Trying a connection before it is saved: the server's version, then a
// SelfSubjectAccessReview for every permission the watchers need, then the
// node count. Each request has a time limit, and every failure is told in
// words a person can act on (which server refused, which permission is missing).

import { HttpMethod, RequestContext, type KubeConfig } from "@kubernetes/client-node";
import { fetch as undiciFetch } from "undici";
import { createKubeTransport, KubeRequestError, type FetchLike } from "../transport.ts";
import { KubeconfigProblem, loadKubeConfig } from "./kubeconfig.ts";

/** What the watchers need: list and watch of these, across all namespaces. */
export const REQUIRED_PERMISSIONS = [
  { verb: "list", resource: "nodes", group: "" },
  { verb: "watch", resource: "nodes", group: "" },
  { verb: "list", resource: "pods", group: "" },
  { verb: "watch", resource: "pods", group: "" },
  { verb: "list", resource: "daemonsets", group: "apps" },
  { verb: "watch", resource: "daemonsets", group: "apps" },
] as const;

export type ConnectionFailureReason = "unreachable" | "tls" | "unauthorized" | "forbidden" | "failed";

/** A connection test that failed; `message` says why in the user's terms. */
export class ConnectionTestFailure extends KubeconfigProblem {
  readonly reason: ConnectionFailureReason;

  constructor(reason: ConnectionFailureReason, message: string, options?: { cause?: unknown }) {
    super("kubeconfig", message, options);
    this.name = "ConnectionTestFailure";
    this.reason = reason;
  }
}

export interface ConnectionTestResult {
  /** `gitVersion` from /version, e.g. `v1.31.0`. */
  serverVersion: string;
  nodeCount: number;
}

export interface TestConnectionOptions {
  /** A kubeconfig whose current context is the one to test (as prepareConnection makes). */
  kubeconfig: string;
  /** Time limit of each request; default 5 s. */
  timeoutMs?: number | undefined;
  fetch?: FetchLike | undefined;
}

const TLS_NOT_TRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
]);

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

/** The failure a request error means, for the person who gave the kubeconfig. */
export function explainRequestFailure(
  error: unknown,
  context: { server: string; timeoutMs: number; doing: string },
): ConnectionTestFailure {
  const { server } = context;
  if (isTimeout(error))
    return new ConnectionTestFailure(
      "unreachable",
      `unreachable: no answer from ${server} within ${context.timeoutMs / 1000} s`,
      { cause: error },
    );
  const codes = errorCodes(error);
  const has = (...wanted: string[]) => codes.some((c) => wanted.includes(c));
  if (codes.some((c) => TLS_NOT_TRUSTED.has(c)))
    return new ConnectionTestFailure(
      "tls",
      `the server's certificate is not signed by the kubeconfig's CA (${server}): check certificate-authority-data`,
      { cause: error },
    );
  if (has("ERR_TLS_CERT_ALTNAME_INVALID"))
    return new ConnectionTestFailure(
      "tls",
      `the server's certificate is not valid for ${server}: check the server address, or set tls-server-name`,
      { cause: error },
    );
  if (has("CERT_HAS_EXPIRED"))
    return new ConnectionTestFailure("tls", `the server's certificate has expired (${server})`, {
      cause: error,
    });
  if (has("ECONNREFUSED"))
    return new ConnectionTestFailure("unreachable", `unreachable: connection refused at ${server}`, {
      cause: error,
    });
  if (has("ENOTFOUND", "EAI_AGAIN"))
    return new ConnectionTestFailure("unreachable", `unreachable: the host of ${server} is not known`, {
      cause: error,
    });
  if (has("ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET"))
    return new ConnectionTestFailure("unreachable", `unreachable: ${server} (${codes.join(", ")})`, {
      cause: error,
    });
  if (error instanceof KubeRequestError) {
    if (error.status === 401)
      return new ConnectionTestFailure(
        "unauthorized",
        `the token was refused (invalid or expired): ${server} answered 401 Unauthorized`,
        { cause: error },
      );
    if (error.status === 403)
      return new ConnectionTestFailure("forbidden", `may not ${context.doing}: ${statusMessage(error)}`, {
        cause: error,
      });
    if (error.status === 0)
      return new ConnectionTestFailure("unreachable", `unreachable: ${server}: ${error.message}`, {
        cause: error,
      });
    return new ConnectionTestFailure(
      "failed",
      `${server} answered ${error.status} to ${context.doing}: ${statusMessage(error)}`,
      {
        cause: error,
      },
    );
  }
  return new ConnectionTestFailure(
    "failed",
    `could not ${context.doing} at ${server}: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

function statusMessage(error: KubeRequestError): string {
  // "GET /path: 403 Forbidden: <the server's message>" → the server's message.
  return error.message.replace(/^\w+ \S+: \d+ \w+: /, "");
}

async function postJson(
  kubeConfig: KubeConfig,
  server: string,
  path: string,
  body: unknown,
  options: { signal: AbortSignal; fetch: FetchLike },
): Promise<unknown> {
  const url = server + path;
  const context = new RequestContext(url, HttpMethod.POST);
  await kubeConfig.applySecurityAuthentication(context);
  const text = JSON.stringify(body);
  let response;
  try {
    response = await options.fetch(url, {
      method: "POST",
      headers: { ...context.getHeaders(), Accept: "application/json", "Content-Type": "application/json" },
      signal: options.signal,
      dispatcher: context.getDispatcher(),
      body: text,
    } as Parameters<FetchLike>[1]);
  } catch (error) {
    if (options.signal.aborted) throw error;
    throw new KubeRequestError(`POST ${path}: no answer from ${server}`, { status: 0, cause: error });
  }
  const answer = await response.text();
  if (response.status < 200 || response.status >= 300) {
    let message = answer.trim().slice(0, 300);
    let reason: string | undefined;
    try {
      const status = JSON.parse(answer) as { message?: unknown; reason?: unknown };
      if (typeof status.message === "string") message = status.message;
      if (typeof status.reason === "string") reason = status.reason;
    } catch {
      // not a Status object: keep the text
    }
    throw new KubeRequestError(
      `POST ${path}: ${response.status} ${reason ?? response.statusText}: ${message}`,
      {
        status: response.status,
        reason,
      },
    );
  }
  return JSON.parse(answer) as unknown;
}

/**
 * Connects with the kubeconfig's current context and checks what the
 * watchers need. Throws ConnectionTestFailure.
 */
export async function testConnection(options: TestConnectionOptions): Promise<ConnectionTestResult> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const fetch = options.fetch ?? (undiciFetch as unknown as FetchLike);
  const kubeConfig = loadKubeConfig(options.kubeconfig);
  const transport = createKubeTransport({ kubeConfig, fetch });
  const server = transport.server;
  const attempt = async <T>(doing: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      return await run(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      throw explainRequestFailure(error, { server, timeoutMs, doing });
    }
  };

  const version = (await attempt("read the server version", (signal) =>
    transport.getJson("/version", { signal }),
  )) as { gitVersion?: unknown };
  const serverVersion = typeof version.gitVersion === "string" ? version.gitVersion : "unknown";

  const answers = await attempt("check its permissions (create selfsubjectaccessreviews)", (signal) =>
    Promise.all(
      REQUIRED_PERMISSIONS.map(async (permission) => {
        const review = (await postJson(
          kubeConfig,
          server,
          "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
          {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SelfSubjectAccessReview",
            spec: {
              resourceAttributes: {
                verb: permission.verb,
                resource: permission.resource,
                group: permission.group,
              },
            },
          },
          { signal, fetch },
        )) as { status?: { allowed?: unknown } };
        return { permission, allowed: review.status?.allowed === true };
      }),
    ),
  );
  const missing = answers.filter((a) => !a.allowed).map((a) => a.permission);
  if (missing.length > 0) {
    throw new ConnectionTestFailure(
      "forbidden",
      `the kubeconfig's user ${missing
        .map((p) => `may not ${p.verb} ${p.group ? `${p.resource}.${p.group}` : p.resource} (cluster-wide)`)
        .join(
          ", ",
        )}: grant get, list and watch on nodes, pods and daemonsets (see "Connect a cluster" in the README)`,
    );
  }

  const nodes = (await attempt("list nodes", (signal) =>
    transport.getJson("/api/v1/nodes?limit=1", { signal }),
  )) as {
    items?: unknown[];
    metadata?: { remainingItemCount?: unknown };
  };
  const remaining = nodes.metadata?.remainingItemCount;
  const nodeCount = (nodes.items?.length ?? 0) + (typeof remaining === "number" ? remaining : 0);
  return { serverVersion, nodeCount };
}
