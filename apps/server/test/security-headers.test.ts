// Security headers on API answers, and the refusal of cross-site and non-JSON
// state-changing requests, against a real server over real HTTP.
import { request as httpsRequest } from "node:https";
import path from "node:path";
import { createTestCertificate } from "../../../packages/agent/test/support/collector.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, startTestServer, type TestServer } from "./harness.ts";

let t: TestServer;
let cookie: string;
beforeAll(async () => {
  t = await startTestServer();
  cookie = await t.login("admin", ADMIN_PASSWORD);
});
afterAll(async () => {
  await t?.stop();
});

const API_CSP = "default-src 'none';frame-ancestors 'none'";

function expectApiHeaders(headers: Headers) {
  expect(headers.get("content-security-policy")).toBe(API_CSP);
  expect(headers.get("x-content-type-options")).toBe("nosniff");
  expect(headers.get("referrer-policy")).toBe("no-referrer");
  expect(headers.get("x-frame-options")).toBe("DENY");
  expect(headers.get("x-powered-by")).toBeNull();
}

/** Whether the session behind `cookie` is still signed in. */
async function signedIn(sessionCookie: string): Promise<boolean> {
  const me = await t.trpc("auth.me", { auth: { cookie: sessionCookie } });
  return (me.body.result?.data as { user: unknown } | undefined)?.user != null;
}

describe("security headers on API answers", () => {
  it.each([
    ["GET", "/healthz", undefined],
    ["GET", "/api/v1/openapi.json", undefined],
    ["GET", "/trpc/auth.me", undefined],
    ["POST", "/trpc/auth.login", JSON.stringify({ username: "admin", password: "wrong-password-1" })],
    ["GET", "/metrics", undefined],
    ["GET", "/no-such-route", undefined],
  ])("%s %s carries a deny-all CSP, nosniff, no referrer and no framing", async (method, url, body) => {
    const response = await fetch(`${t.url}${url}`, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body,
    });
    expectApiHeaders(response.headers);
    expect(response.headers.get("strict-transport-security")).toBeNull();
  });

  it("refusals of the guard carry the same headers", async () => {
    const response = await fetch(`${t.url}/trpc/auth.logout`, {
      method: "POST",
      headers: { cookie, origin: "https://evil.example" },
    });
    expect(response.status).toBe(403);
    expectApiHeaders(response.headers);
  });

  it("sends HSTS only over HTTPS, as the proxy reports it when TAPFLEET_TRUST_PROXY is set", async () => {
    const proxied = await startTestServer({ TAPFLEET_TRUST_PROXY: "true" });
    try {
      const https = await fetch(`${proxied.url}/healthz`, { headers: { "x-forwarded-proto": "https" } });
      expect(https.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
      const http = await fetch(`${proxied.url}/healthz`, { headers: { "x-forwarded-proto": "http" } });
      expect(http.headers.get("strict-transport-security")).toBeNull();
    } finally {
      await proxied.stop();
    }
    // Without trust in the proxy, its claim is not believed.
    const spoofed = await fetch(`${t.url}/healthz`, { headers: { "x-forwarded-proto": "https" } });
    expect(spoofed.headers.get("strict-transport-security")).toBeNull();
  });

  it("sends HSTS when serving HTTPS itself", async () => {
    const certificate = createTestCertificate();
    const tls = await startTestServer({
      TAPFLEET_TLS_CERT_FILE: path.join(certificate.directory, "cert.pem"),
      TAPFLEET_TLS_KEY_FILE: path.join(certificate.directory, "key.pem"),
    });
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const request = httpsRequest(
          `${tls.url}/healthz`,
          { ca: certificate.cert, checkServerIdentity: () => undefined },
          (response) => {
            response.resume();
            resolve(response.headers);
          },
        );
        request.on("error", reject);
        request.end();
      });
      expect(headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
      expect(headers["content-security-policy"]).toBe(API_CSP);
    } finally {
      await tls.stop();
    }
  });
});

describe("cross-site requests with the session cookie", () => {
  it("refuses a sign-out posted as a form by another site, and the session stays", async () => {
    const form = new FormData();
    form.set("x", "1");
    const response = await fetch(`${t.url}/trpc/auth.logout`, {
      method: "POST",
      headers: { cookie, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      body: form,
    });
    expect(response.status).toBe(415);
    expect(await signedIn(cookie)).toBe(true);
  });

  it("refuses a multipart sign-out even from a page of the same site", async () => {
    const form = new FormData();
    form.set("x", "1");
    const response = await fetch(`${t.url}/trpc/auth.logout`, {
      method: "POST",
      headers: { cookie, "sec-fetch-site": "same-origin" },
      body: form,
    });
    expect(response.status).toBe(415);
    const body = (await response.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error.message).toMatch(
      /^content-type: must be application\/json, not "multipart\/form-data"/,
    );
    expect(body.error.data.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    expect(await signedIn(cookie)).toBe(true);
  });

  it.each([
    ["a same-site page (Sec-Fetch-Site)", { "sec-fetch-site": "same-site" }],
    [
      "a cross-site page (Sec-Fetch-Site)",
      { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
    ],
    ["another origin (Origin only)", { origin: "https://tapfleet.example.com.evil.example" }],
    ["a sandboxed page (Origin: null)", { origin: "null" }],
  ])("refuses a JSON sign-out from %s, and the session stays", async (_name, headers) => {
    const response = await fetch(`${t.url}/trpc/auth.logout`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", ...headers },
      body: "{}",
    });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: { message: string; data: { appCode: string } } };
    expect(body.error.message).toMatch(/^Refused a .*request/);
    expect(body.error.data.appCode).toBe("FORBIDDEN");
    expect(await signedIn(cookie)).toBe(true);
  });

  it("refuses a REST user creation from another origin, and creates nothing", async () => {
    const before = await t.db.user.count();
    const response = await fetch(`${t.url}/api/v1/users`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", origin: "https://evil.example" },
      body: JSON.stringify({ username: "planted", role: "admin", password: "planted-password-123" }),
    });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("FORBIDDEN");
    expect(body.error.message).toContain("https://evil.example");
    expect(await t.db.user.count()).toBe(before);
  });

  it("refuses a REST body that is not JSON, and creates nothing", async () => {
    const before = await t.db.user.count();
    const response = await fetch(`${t.url}/api/v1/users`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "username=planted&role=admin&password=planted-password-123",
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      'content-type: must be application/json, not "application/x-www-form-urlencoded".',
    );
    expect(await t.db.user.count()).toBe(before);
  });

  it("refuses a sign-in from another site (login CSRF), and sets no cookie", async () => {
    const response = await fetch(`${t.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("refuses a text/plain body, which a form can send without a preflight", async () => {
    const response = await fetch(`${t.url}/trpc/auth.logout`, {
      method: "POST",
      headers: { cookie, "content-type": "text/plain" },
      body: "{}",
    });
    expect(response.status).toBe(415);
    expect(await signedIn(cookie)).toBe(true);
  });
});

describe("requests the guard lets through", () => {
  it("accepts the dashboard's own requests: same-origin by Sec-Fetch-Site, or Origin equal to Host", async () => {
    const viaFetchSite = await fetch(`${t.url}/api/v1/users`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", "sec-fetch-site": "same-origin", origin: t.url },
      body: JSON.stringify({
        username: "from-the-dashboard",
        role: "viewer",
        password: "dashboard-password-1",
      }),
    });
    expect(viaFetchSite.status, await viaFetchSite.clone().text()).toBe(200);
    // A browser on plain HTTP to a non-local address sends Origin but no Sec-Fetch-Site.
    const session = await t.login("admin", ADMIN_PASSWORD);
    const logout = await fetch(`${t.url}/trpc/auth.logout`, {
      method: "POST",
      headers: { cookie: session, "content-type": "application/json", origin: t.url },
      body: "{}",
    });
    expect(logout.status).toBe(200);
    expect(await signedIn(session)).toBe(false);
  });

  it("accepts a client that is not a browser (no Origin, no Sec-Fetch-Site), with a cookie", async () => {
    const session = await t.login("admin", ADMIN_PASSWORD);
    const response = await fetch(`${t.url}/trpc/auth.logout`, {
      method: "POST",
      headers: { cookie: session, "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(200);
    expect(await signedIn(session)).toBe(false);
  });

  it("accepts API tokens whatever the Origin, but still only JSON bodies", async () => {
    const { token } = await t.userWithToken("admin");
    const created = await fetch(`${t.url}/api/v1/users`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        origin: "https://ci.example",
      },
      body: JSON.stringify({ username: "made-by-ci", role: "viewer", password: "made-by-ci-password-1" }),
    });
    expect(created.status, await created.clone().text()).toBe(200);
    const form = new FormData();
    form.set("username", "x");
    const refused = await fetch(`${t.url}/api/v1/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    expect(refused.status).toBe(415);
  });

  it("trusts X-Forwarded-Host as the server's own host only when TAPFLEET_TRUST_PROXY is set", async () => {
    const headers = {
      cookie,
      "content-type": "application/json",
      origin: "https://tapfleet.example.com",
      "x-forwarded-host": "tapfleet.example.com",
      "x-forwarded-proto": "https",
    };
    // Not trusted: the Host the request reached (127.0.0.1:port) is not the Origin's.
    const direct = await fetch(`${t.url}/trpc/auth.logout`, { method: "POST", headers, body: "{}" });
    expect(direct.status).toBe(403);
    expect(((await direct.json()) as { error: { message: string } }).error.message).toContain(
      "TAPFLEET_TRUST_PROXY",
    );
    expect(await signedIn(cookie)).toBe(true);

    const proxied = await startTestServer({ TAPFLEET_TRUST_PROXY: "true" });
    try {
      const session = await proxied.login("admin", ADMIN_PASSWORD);
      const response = await fetch(`${proxied.url}/trpc/auth.logout`, {
        method: "POST",
        headers: { ...headers, cookie: session },
        body: "{}",
      });
      expect(response.status).toBe(200);
    } finally {
      await proxied.stop();
    }
  });

  it("leaves the agents' signed /ingest endpoints alone", async () => {
    const response = await fetch(`${t.url}/ingest/v1/reports`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", origin: "https://evil.example" },
      body: "not signed",
    });
    // The protocol's own refusal of an unsigned body, not the guard's 403/415.
    expect([403, 415]).not.toContain(response.status);
    expect(await response.json()).toMatchObject({ ok: false, reason: expect.any(String) as string });
  });
});
