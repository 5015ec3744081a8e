// Response headers that tell browsers what a Tapfleet answer may do: a
// Content-Security-Policy (a nonce-based one for dashboard pages, a deny-all
// one for everything else), no framing, no MIME sniffing, no referrer, and
// HSTS when the request came over HTTPS. See docs/adr/0008.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import fastifyHelmet, { type FastifyHelmetOptions } from "@fastify/helmet";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { strictTransportSecurity } from "helmet";
import type { Logger } from "pino";

/** JSON, metrics, downloads: nothing in them may load, run or be framed. */
export const API_CSP_DIRECTIVES = {
  "default-src": ["'none'"],
  "frame-ancestors": ["'none'"],
};

// One nonce per dashboard response, made when helmet writes the policy and
// read back when the request is handed to Next.js.
const nonces = new WeakMap<ServerResponse, string>();
const nonceFor = (response: ServerResponse): string => {
  let nonce = nonces.get(response);
  if (!nonce) {
    nonce = randomBytes(18).toString("base64");
    nonces.set(response, nonce);
  }
  return nonce;
};

/**
 * The dashboard's policy. Scripts need this response's nonce (Next.js puts it
 * on its bootstrap and inline hydration scripts; 'strict-dynamic' lets those
 * load the chunks they import). Styles allow 'unsafe-inline' because Mantine
 * renders style props as `style` attributes, which no nonce can cover.
 */
export const DASHBOARD_CSP_DIRECTIVES = {
  "default-src": ["'self'"],
  "script-src": [
    "'self'",
    (_request: IncomingMessage, response: ServerResponse) => `'nonce-${nonceFor(response)}'`,
    "'strict-dynamic'",
  ],
  "style-src": ["'self'", "'unsafe-inline'"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'", "data:"],
  "connect-src": ["'self'"],
  "object-src": ["'none'"],
  "base-uri": ["'none'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
};

const HELMET_OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: API_CSP_DIRECTIVES },
  xFrameOptions: { action: "deny" },
  referrerPolicy: { policy: "no-referrer" },
  // Sent per request below, only over HTTPS: a browser ignores it over HTTP, and a
  // policy that claims HTTPS where there is none misleads whoever reads the headers.
  strictTransportSecurity: false,
};

const hsts = strictTransportSecurity({ maxAge: 365 * 24 * 3600 });

/** Registers the headers for every route; the dashboard route overrides the CSP (see below). */
export async function registerSecurityHeaders(
  app: FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>,
): Promise<void> {
  await app.register(fastifyHelmet, HELMET_OPTIONS);
  // `request.protocol` is https for a TLS listener, or from X-Forwarded-Proto
  // when TAPFLEET_TRUST_PROXY is set.
  app.addHook("onRequest", (request, reply, done) => {
    if (request.protocol === "https") hsts(request.raw, reply.raw, () => undefined);
    done();
  });
}

/** Helmet options for the catch-all route that hands requests to Next.js. */
export const DASHBOARD_HELMET_OPTIONS: FastifyHelmetOptions = {
  ...HELMET_OPTIONS,
  contentSecurityPolicy: { useDefaults: false, directives: DASHBOARD_CSP_DIRECTIVES },
};

/**
 * Gives Next.js this response's nonce: it reads it from the request's
 * Content-Security-Policy header (as set by a Next.js proxy/middleware), and
 * the root layout reads `x-nonce` for the scripts it renders itself. Both are
 * overwritten, so a client cannot choose them.
 */
export function passNonceToDashboard(request: FastifyRequest, reply: FastifyReply): void {
  const policy = reply.raw.getHeader("content-security-policy");
  const nonce = nonces.get(reply.raw);
  if (typeof policy !== "string" || !nonce) {
    throw new Error("the dashboard route has no Content-Security-Policy nonce (helmet did not run)");
  }
  request.raw.headers["content-security-policy"] = policy;
  request.raw.headers["x-nonce"] = nonce;
  delete request.raw.headers["content-security-policy-report-only"];
}
