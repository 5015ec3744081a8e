// Refuses state-changing API requests that a browser sent on behalf of another
// site (cross-site request forgery), and API bodies that are not JSON. The
// session cookie is SameSite=Lax, which still lets a same-site page (another
// app on a sibling subdomain) send it, and tRPC itself would take a
// multipart/form-data mutation that any HTML form can post. See docs/adr/0008.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { AppError } from "@tapfleet/core";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { sendError } from "./http-errors.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** The surfaces a cookie can authenticate; /ingest is HMAC-signed and has its own content types. */
const GUARDED_PREFIXES = ["/trpc/", "/api/v1/"];

export type CrossOriginVerdict = { allowed: true } | { allowed: false; status: 403 | 415; message: string };

/**
 * Decides one request. The order follows Go's net/http CrossOriginProtection:
 * a browser's Sec-Fetch-Site first (it knows the page's origin regardless of
 * any proxy), then Origin against the Host the request was sent to (the
 * forwarded host when TAPFLEET_TRUST_PROXY is set), and a request with
 * neither header did not come from a browser (curl, CI, the CLI, agents).
 * A request with an Authorization header is exempt: a bearer token is never
 * sent by a browser on its own, and when the header is present the session
 * cookie is ignored (see auth.ts).
 */
export function judgeCrossOriginRequest(request: {
  method: string;
  /** The matched route's pattern when there is one, so that odd spellings of a path cannot slip past. */
  route: string;
  host: string;
  headers: FastifyRequest["headers"];
}): CrossOriginVerdict {
  if (SAFE_METHODS.has(request.method)) return { allowed: true };
  if (!GUARDED_PREFIXES.some((prefix) => request.route.startsWith(prefix))) return { allowed: true };

  if (hasBody(request.headers)) {
    const mediaType = request.headers["content-type"]?.split(";", 1)[0]?.trim().toLowerCase();
    if (mediaType !== "application/json") {
      return {
        allowed: false,
        status: 415,
        message: `content-type: must be application/json, not ${mediaType ? `"${mediaType}"` : "missing"}.`,
      };
    }
  }

  if (request.headers.authorization !== undefined) return { allowed: true };

  const fetchSite = header(request.headers["sec-fetch-site"]);
  if (fetchSite !== undefined) {
    if (fetchSite === "same-origin" || fetchSite === "none") return { allowed: true };
    return {
      allowed: false,
      status: 403,
      message: `Refused a ${fetchSite} request: the dashboard's session only works from the dashboard's own pages (Sec-Fetch-Site: ${fetchSite}). API clients send Authorization: Bearer <token>.`,
    };
  }

  const origin = header(request.headers.origin);
  if (origin === undefined) return { allowed: true };
  let originHost: string | undefined;
  try {
    originHost = origin === "null" ? undefined : new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  if (originHost !== undefined && originHost.toLowerCase() === request.host.toLowerCase()) {
    return { allowed: true };
  }
  return {
    allowed: false,
    status: 403,
    message: `Refused a request from origin ${origin}: it is not this server's own (${request.host}). Behind a proxy that changes the Host header, set TAPFLEET_TRUST_PROXY=true and have the proxy send X-Forwarded-Host. API clients send Authorization: Bearer <token>.`,
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function hasBody(headers: FastifyRequest["headers"]): boolean {
  if (headers["transfer-encoding"] !== undefined) return true;
  const length = headers["content-length"];
  return length !== undefined && length !== "0";
}

/** Runs the check before anything else reads the request (no body is parsed for a refusal). */
export function registerCrossOriginGuard(
  app: FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>,
): void {
  app.addHook("onRequest", async (request, reply) => {
    const verdict = judgeCrossOriginRequest({
      method: request.method,
      route: request.routeOptions.url ?? request.url,
      host: request.host,
      headers: request.headers,
    });
    if (verdict.allowed) return;
    request.log.info(
      { origin: request.headers.origin, status: verdict.status },
      "cross-origin guard refused",
    );
    const code = verdict.status === 403 ? "FORBIDDEN" : "UNSUPPORTED_MEDIA_TYPE";
    await sendError(request, reply, new AppError(code, { userMessage: verdict.message }));
  });
}
