import { spawn } from "node:child_process";
import path from "node:path";
import { createApiToken } from "@tapfleet/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServerEnv } from "../src/env.ts";
import { ADMIN_PASSWORD, startTestServer, type TestServer } from "./harness.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.stop();
});

async function counts() {
  const [users, tokens, sessions] = await Promise.all([
    t.db.user.count(),
    t.db.apiToken.count(),
    t.db.session.count(),
  ]);
  return { users, tokens, sessions };
}

describe("health and metrics", () => {
  it("answers /healthz, /readyz and /metrics", async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toContain("tapfleet_http_request_duration_seconds_bucket");
    expect(metrics).toContain("tapfleet_process_cpu_user_seconds_total");
  });

  it("echoes a request id, or makes one", async () => {
    const given = await fetch(`${t.url}/healthz`, { headers: { "x-request-id": "ci-run-42" } });
    expect(given.headers.get("x-request-id")).toBe("ci-run-42");
    const made = await fetch(`${t.url}/healthz`);
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("login", () => {
  it("signs in the first admin from TAPFLEET_ADMIN_PASSWORD with an HTTP-only SameSite cookie", async () => {
    const response = await fetch(`${t.url}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith("tapfleet_session="))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const me = await t.trpc("auth.me", { auth: { cookie: cookie.split(";")[0]! } });
    expect(me.body.result?.data).toMatchObject({ user: { username: "admin", role: "admin" } });
  });

  it("refuses a wrong password with 401, opens no session, and audits the failure", async () => {
    const before = await counts();
    const result = await t.trpc("auth.login", { input: { username: "admin", password: "not the password" } });
    expect(result.status).toBe(401);
    expect(result.body.error?.data.appCode).toBe("INVALID_CREDENTIALS");
    expect(result.body.error?.message).toBe("Wrong user name or password.");
    expect((await counts()).sessions).toBe(before.sessions);
    const last = await t.db.auditEvent.findFirst({ orderBy: { id: "desc" } });
    expect(last).toMatchObject({
      action: "auth.login",
      outcome: "failure",
      errorCode: "INVALID_CREDENTIALS",
      actorType: "anonymous",
    });
    expect(JSON.stringify(last?.detail)).not.toContain("not the password");
  });

  it("rate-limits repeated failures for a user name, even with the right password afterwards", async () => {
    const { username, password } = await t.userWithToken("viewer", "limited-user");
    for (let i = 0; i < 5; i++) {
      expect((await t.trpc("auth.login", { input: { username, password: "wrong-password" } })).status).toBe(
        401,
      );
    }
    const limited = await t.trpc("auth.login", { input: { username, password } });
    expect(limited.status).toBe(429);
    expect(limited.body.error?.data.appCode).toBe("RATE_LIMITED");
    expect(limited.body.error?.data.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.body.error?.message).toMatch(/Try again in \d+ s/);
  });

  it("logout ends the session on the server, not only in the browser", async () => {
    const cookie = await t.login("admin", ADMIN_PASSWORD);
    expect((await t.trpc("users.list", { auth: { cookie } })).status).toBe(200);
    expect((await t.trpc("auth.logout", { input: {}, auth: { cookie } })).status).toBe(200);
    expect((await t.trpc("users.list", { auth: { cookie } })).status).toBe(401);
  });

  it("validates the input and names the field", async () => {
    const result = await t.trpc("auth.login", { input: { username: "", password: "x" } });
    expect(result.status).toBe(400);
    expect(result.body.error?.message).toContain("username: is required");
  });
});

describe("API tokens", () => {
  it("authenticates a token on /trpc and on the REST surface", async () => {
    const { token } = await t.userWithToken("operator");
    const me = await t.trpc("auth.me", { auth: { bearer: token } });
    expect(me.body.result?.data).toMatchObject({ token: { role: "operator" } });
    const rest = await fetch(`${t.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${token}` } });
    expect(rest.status).toBe(200);
    const body = (await rest.json()) as { items: { prefix: string }[] };
    expect(body.items).toHaveLength(1);
    expect(token.startsWith(body.items[0]!.prefix)).toBe(true);
    // The stored form is a hash: the secret itself appears nowhere in the table.
    const rows = await t.db.apiToken.findMany();
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it.each([
    ["a malformed header", { header: "Token abc" }, /Malformed Authorization header/],
    ["a malformed token", { bearer: "tfk_short" }, /Malformed API token/],
    ["an unknown token", { bearer: "tfk_" + "A".repeat(43) }, /Unknown API token/],
  ] as const)("refuses %s with 401 and changes nothing", async (_name, auth, message) => {
    const before = await counts();
    const result = await t.trpc("users.create", {
      input: { username: "intruder", role: "admin", password: "intruder-password" },
      auth,
    });
    expect(result.status).toBe(401);
    expect(result.body.error?.message).toMatch(message);
    expect(await counts()).toEqual(before);
  });

  it("answers 401 to a refused token even on a public procedure", async () => {
    const { token } = await t.userWithToken("viewer");
    const tampered = `${token.slice(0, -1)}${token.endsWith("x") ? "y" : "x"}`;
    const result = await t.trpc("auth.me", { auth: { bearer: tampered } });
    expect(result.status).toBe(401);
    expect(result.body.error?.message).toBe("Unknown API token.");
    const rest = await fetch(`${t.url}/api/v1/me`, { headers: { authorization: `Bearer ${tampered}` } });
    expect(rest.status).toBe(401);
  });

  it("refuses an expired token and a revoked token with 401", async () => {
    const admin = await t.userWithToken("admin");
    const creator = {
      type: "user" as const,
      id: admin.userId,
      name: admin.username,
      role: "admin" as const,
      sessionId: "",
    };
    const expired = await createApiToken({
      db: t.db,
      creator,
      name: "expired",
      role: "admin",
      now: new Date(Date.now() - 7200_000),
      expiresAt: new Date(Date.now() - 3600_000),
    });
    const expiredResult = await t.trpc("users.list", { auth: { bearer: expired.secret } });
    expect(expiredResult.status).toBe(401);
    expect(expiredResult.body.error?.message).toMatch(/expired at/);

    const cookie = await t.login(admin.username, admin.password);
    const created = await t.trpc("tokens.create", {
      input: { name: "to revoke", role: "viewer" },
      auth: { cookie },
    });
    const { token, secret } = created.body.result?.data as { token: { id: string }; secret: string };
    expect((await t.trpc("tokens.list", { auth: { bearer: secret } })).status).toBe(200);
    expect((await t.trpc("tokens.revoke", { input: { id: token.id }, auth: { cookie } })).status).toBe(200);
    const revoked = await t.trpc("tokens.list", { auth: { bearer: secret } });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error?.message).toMatch(/revoked/);
  });

  it("refuses a token with a role above its creator's", async () => {
    const operator = await t.userWithToken("operator");
    const cookie = await t.login(operator.username, operator.password);
    const before = await counts();
    const result = await t.trpc("tokens.create", {
      input: { name: "escalate", role: "admin" },
      auth: { cookie },
    });
    expect(result.status).toBe(403);
    expect(await counts()).toEqual(before);
  });

  it("refuses an expiry in the past, naming the field", async () => {
    const cookie = await t.login("admin", ADMIN_PASSWORD);
    const result = await t.trpc("tokens.create", {
      input: { name: "past", role: "viewer", expiresAt: new Date(Date.now() - 60_000).toISOString() },
      auth: { cookie },
    });
    expect(result.status).toBe(400);
    expect(result.body.error?.message).toMatch(/^expiresAt:/);
  });
});

describe("roles and bad requests", () => {
  it("answers 403 to too small a role and changes nothing", async () => {
    const { token } = await t.userWithToken("operator");
    const before = await counts();
    const result = await t.trpc("users.create", {
      input: { username: "newbie", role: "viewer", password: "a-long-enough-password" },
      auth: { bearer: token },
    });
    expect(result.status).toBe(403);
    expect(result.body.error?.message).toBe("This needs the admin role; you have operator.");
    expect(await counts()).toEqual(before);
  });

  it("answers 413 to an oversized body and 400 to malformed JSON, changing nothing", async () => {
    const { token } = await t.userWithToken("admin");
    const before = await counts();
    const big = await fetch(`${t.url}/trpc/users.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ username: "big", role: "viewer", password: "x".repeat(2_000_000) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { message: string } }).error.message).toMatch(
      /larger than the limit/,
    );
    const malformed = await fetch(`${t.url}/trpc/users.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: '{"username": "half',
    });
    expect(malformed.status).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it("names every invalid field", async () => {
    const { token } = await t.userWithToken("admin");
    const result = await t.trpc("users.create", {
      input: { username: "a b", role: "root", password: "short" },
      auth: { bearer: token },
    });
    expect(result.status).toBe(400);
    const message = result.body.error?.message ?? "";
    expect(message).toMatch(/username: may contain only/);
    expect(message).toMatch(/role: /);
    expect(message).toMatch(/password: must be at least 12 characters/);
    expect(result.body.error?.data.zodError).toMatchObject({ fieldErrors: { username: expect.any(Array) } });
  });

  it("keeps at least one enabled admin", async () => {
    const cookie = await t.login("admin", ADMIN_PASSWORD);
    const admins = await t.db.user.findMany({ where: { role: "admin", disabledAt: null } });
    for (const other of admins.filter((u) => u.username !== "admin")) {
      await t.db.user.update({ where: { id: other.id }, data: { role: "viewer" } });
    }
    const self = admins.find((u) => u.username === "admin")!;
    const result = await t.trpc("users.update", { input: { id: self.id, role: "viewer" }, auth: { cookie } });
    expect(result.status).toBe(400);
    expect(result.body.error?.message).toMatch(/last enabled admin/);
    expect((await t.db.user.findUnique({ where: { id: self.id } }))?.role).toBe("admin");
  });

  it("refuses the sign-in and the tokens of a disabled user", async () => {
    const cookie = await t.login("admin", ADMIN_PASSWORD);
    const victim = await t.userWithToken("operator");
    expect(
      (await t.trpc("users.update", { input: { id: victim.userId, disabled: true }, auth: { cookie } }))
        .status,
    ).toBe(200);
    expect(
      (await t.trpc("auth.login", { input: { username: victim.username, password: victim.password } }))
        .status,
    ).toBe(401);
    const withToken = await t.trpc("tokens.list", { auth: { bearer: victim.token } });
    expect(withToken.status).toBe(401);
    expect(withToken.body.error?.message).toMatch(/owner is disabled/);
  });
});

describe("audit log", () => {
  it("records who did what, from where, and the outcome, and browses newest first", async () => {
    const admin = await t.userWithToken("admin");
    const created = await t.trpc("users.create", {
      input: { username: "audited-user", role: "viewer", password: "audited-password" },
      auth: { bearer: admin.token },
    });
    expect(created.status).toBe(200);
    const page = await fetch(`${t.url}/api/v1/audit?limit=5&action=users.create`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    const body = (await page.json()) as {
      items: { actorType: string; actorName: string; target: string; ip: string; outcome: string }[];
    };
    expect(body.items[0]).toMatchObject({
      actorType: "token",
      actorName: `${admin.username}-token`,
      target: "audited-user",
      ip: "127.0.0.1",
      outcome: "success",
    });
    const stored = await t.db.auditEvent.findFirst({
      where: { target: "audited-user" },
      orderBy: { id: "desc" },
    });
    expect(JSON.stringify(stored?.detail)).toContain("[redacted]");
    expect(JSON.stringify(stored?.detail)).not.toContain("audited-password");
  });

  it("refuses a live subscription below its role with a real 401 or 403, not a 200 stream", async () => {
    const anonymous = await fetch(`${t.url}/trpc/audit.live`, { headers: { accept: "text/event-stream" } });
    expect(anonymous.status).toBe(401);
    const { token } = await t.userWithToken("operator");
    const operator = await fetch(`${t.url}/trpc/audit.live`, {
      headers: { accept: "text/event-stream", authorization: `Bearer ${token}` },
    });
    expect(operator.status).toBe(403);
    expect(((await operator.json()) as { error: { message: string } }).error.message).toBe(
      "This needs the admin role; you have operator.",
    );
  });

  it("streams new events to a live subscriber over SSE, gap-free from lastEventId", async () => {
    const admin = await t.userWithToken("admin");
    const latest = await t.db.auditEvent.findFirst({ orderBy: { id: "desc" } });
    const input = encodeURIComponent(JSON.stringify({ lastEventId: (latest?.id ?? 0n).toString() }));
    const controller = new AbortController();
    const response = await fetch(`${t.url}/trpc/audit.live?input=${input}`, {
      headers: { authorization: `Bearer ${admin.token}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    await t.trpc("users.create", {
      input: { username: "live-target", role: "viewer", password: "live-target-password" },
      auth: { bearer: admin.token },
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let event: { action: string; target: string } | undefined;
    while (!event) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const match = /data: (\{.*"live-target".*\})/.exec(buffer);
      if (match) event = JSON.parse(match[1]!) as { action: string; target: string };
    }
    controller.abort();
    expect(event).toMatchObject({ action: "users.create", target: "live-target" });
  });
});

describe("configuration and start-up", () => {
  it("names the variable that is wrong", () => {
    expect(() => loadServerEnv({ PORT: "eighty" })).toThrow(/PORT: must be a number/);
    expect(() => loadServerEnv({ DATABASE_URL: "mysql://x" })).toThrow(
      /DATABASE_URL: must be a postgresql:\/\/ connection string/,
    );
    expect(() => loadServerEnv({ TAPFLEET_ADMIN_PASSWORD: "short" })).toThrow(
      /TAPFLEET_ADMIN_PASSWORD: must be at least 12/,
    );
  });

  it.each([
    ["http://tapfleet.example.com", "must start with https://"],
    ["tapfleet.example.com", "must be a URL such as https://tapfleet.example.com"],
    ["https://tapfleet.example.com/ingest", "must be only https://host[:port]"],
    ["https://tapfleet.example.com/?region=eu", "must be only https://host[:port]"],
    ["https://user:pw@tapfleet.example.com", "must not carry a user name or password"],
    ["https://tapfleet.example.com:99999", "must be a URL"],
  ])("refuses TAPFLEET_PUBLIC_URL=%s, naming the variable", (value, message) => {
    expect(() => loadServerEnv({ TAPFLEET_PUBLIC_URL: value })).toThrow(`TAPFLEET_PUBLIC_URL: ${message}`);
  });

  it.each([
    ["https://tapfleet.example.com", "tapfleet.example.com", 443],
    ["https://tapfleet.example.com:8443/", "tapfleet.example.com", 8443],
    ["https://[fd00::1]:9443", "fd00::1", 9443],
  ])("reads TAPFLEET_PUBLIC_URL=%s as the collector host and port", (value, host, port) => {
    expect(loadServerEnv({ TAPFLEET_PUBLIC_URL: value }).TAPFLEET_PUBLIC_URL).toMatchObject({ host, port });
  });

  it("offers the public address as the agents' collector in GET /api/v1/system/info, and null without one", async () => {
    const configured = await startTestServer({ TAPFLEET_PUBLIC_URL: "https://tapfleet.example.com:8443" });
    try {
      const info = (await (await fetch(`${configured.url}/api/v1/system/info`)).json()) as Record<
        string,
        unknown
      >;
      expect(info.collector).toEqual({
        url: "https://tapfleet.example.com:8443",
        host: "tapfleet.example.com",
        port: 8443,
      });
    } finally {
      await configured.stop();
    }
    const info = (await (await fetch(`${t.url}/api/v1/system/info`)).json()) as Record<string, unknown>;
    expect(info.collector).toBeNull();
  });

  it("exits non-zero with one line naming the host when the database cannot be reached", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.resolve(import.meta.dirname, "../src/main.ts")],
      {
        env: {
          ...process.env,
          DATABASE_URL: "postgresql://tapfleet:pw@127.0.0.1:1/tapfleet",
          PORT: "0",
          LOG_LEVEL: "silent",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).not.toBe(0);
    expect(stderr.split("\n")[0]).toMatch(
      /^tapfleet: cannot reach the PostgreSQL server at 127\.0\.0\.1:1: /,
    );
    expect(stderr).not.toContain("pw@");
  });
});

describe("readiness", () => {
  // Last: it stops the database under the running server.
  it("/readyz fails while the database is unreachable, /healthz still answers", async () => {
    await t.database.stop();
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(
      /cannot reach the PostgreSQL server at 127\.0\.0\.1:\d+/,
    );
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});
