// What a token may do follows its owner's current standing, what one token may
// do to another follows their roles, and sign-in attempts are limited however
// they arrive (side by side, or packed into one tRPC batch).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, startTestServer, type Auth, type TestServer } from "./harness.ts";

let t: TestServer;
let admin: Auth;
beforeAll(async () => {
  t = await startTestServer();
  admin = { cookie: await t.login("admin", ADMIN_PASSWORD) };
});
afterAll(async () => {
  await t?.stop();
});

async function setRole(userId: string, role: "viewer" | "operator" | "admin") {
  const result = await t.trpc("users.update", { input: { id: userId, role }, auth: admin });
  expect(result.status, JSON.stringify(result.body)).toBe(200);
}

async function createToken(cookie: string, name: string, role: "viewer" | "operator" | "admin") {
  const result = await t.trpc("tokens.create", { input: { name, role }, auth: { cookie } });
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  return (result.body.result?.data as { token: { id: string }; secret: string }) ?? expect.fail();
}

describe("a token acts with no more than its owner's current role", () => {
  it("loses the admin role the moment its owner is demoted, on tRPC, REST and /me", async () => {
    const owner = await t.userWithToken("admin", "demoted-admin");
    const bearer = { bearer: owner.token };
    expect((await t.trpc("users.list", { auth: bearer })).status).toBe(200);

    await setRole(owner.userId, "viewer");
    const users = await t.db.user.count();
    const listed = await t.trpc("users.list", { auth: bearer });
    expect(listed.status).toBe(403);
    expect(listed.body.error?.message).toBe("This needs the admin role; you have viewer.");
    const created = await t.trpc("users.create", {
      input: { username: "made-by-demoted", role: "admin", password: "made-by-demoted-password" },
      auth: bearer,
    });
    expect(created.status).toBe(403);
    expect(await t.db.user.count()).toBe(users);
    expect(
      (await fetch(`${t.url}/api/v1/users`, { headers: { authorization: `Bearer ${owner.token}` } })).status,
    ).toBe(403);

    const me = await t.trpc("auth.me", { auth: bearer });
    expect(me.body.result?.data).toMatchObject({ token: { name: "demoted-admin-token", role: "viewer" } });
    const restMe = await fetch(`${t.url}/api/v1/me`, { headers: { authorization: `Bearer ${owner.token}` } });
    expect(await restMe.json()).toMatchObject({ token: { role: "viewer" } });

    // Promoted half-way back, the token acts as an operator, not as the admin it was made as.
    await setRole(owner.userId, "operator");
    expect((await t.trpc("auth.me", { auth: bearer })).body.result?.data).toMatchObject({
      token: { role: "operator" },
    });
    expect((await t.trpc("users.list", { auth: bearer })).status).toBe(403);

    // A token made below its owner's role keeps its own role when the owner is promoted.
    const viewer = await t.userWithToken("viewer", "promoted-viewer");
    await setRole(viewer.userId, "admin");
    expect((await t.trpc("auth.me", { auth: { bearer: viewer.token } })).body.result?.data).toMatchObject({
      token: { role: "viewer" },
    });
  });

  it("is refused once its owner is disabled or deleted", async () => {
    const disabled = await t.userWithToken("operator", "soon-disabled");
    expect((await t.trpc("auth.me", { auth: { bearer: disabled.token } })).status).toBe(200);
    const off = await t.trpc("users.update", { input: { id: disabled.userId, disabled: true }, auth: admin });
    expect(off.status).toBe(200);
    const refused = await t.trpc("auth.me", { auth: { bearer: disabled.token } });
    expect(refused.status).toBe(401);
    expect(refused.body.error?.message).toBe("This API token's owner is disabled.");

    const deleted = await t.userWithToken("operator", "soon-deleted");
    const gone = await t.trpc("users.delete", { input: { id: deleted.userId }, auth: admin });
    expect(gone.status, JSON.stringify(gone.body)).toBe(200);
    const unknown = await t.trpc("sensors.list", { auth: { bearer: deleted.token } });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error?.message).toBe("Unknown API token.");
  });
});

describe("a token cannot revoke a token of a higher role than its own", () => {
  it("refuses a viewer token revoking its owner's admin token, audits it, and changes nothing", async () => {
    const owner = await t.userWithToken("admin", "token-owner");
    const cookie = await t.login(owner.username, owner.password);
    const strong = await createToken(cookie, "deploy", "admin");
    const operator = await createToken(cookie, "ops", "operator");
    const weak = await createToken(cookie, "dashboard-reader", "viewer");
    const weakAuth = { bearer: weak.secret };

    for (const target of [strong, operator]) {
      const refused = await t.trpc("tokens.revoke", { input: { id: target.token.id }, auth: weakAuth });
      expect(refused.status).toBe(403);
      expect(refused.body.error?.data.appCode).toBe("FORBIDDEN");
      expect(refused.body.error?.message).toMatch(
        /^A viewer token cannot revoke a token with the (admin|operator) role\.$/,
      );
    }
    const rest = await fetch(`${t.url}/api/v1/tokens/${strong.token.id}/revoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${weak.secret}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(rest.status).toBe(403);
    const stored = await t.db.apiToken.findMany({
      where: { id: { in: [strong.token.id, operator.token.id] } },
    });
    expect(stored.map((token) => token.revokedAt)).toEqual([null, null]);
    expect((await t.trpc("auth.me", { auth: { bearer: strong.secret } })).status).toBe(200);

    const audited = await t.db.auditEvent.findFirst({
      where: { action: "tokens.revoke", target: strong.token.id },
      orderBy: { id: "desc" },
    });
    expect(audited).toMatchObject({ actorType: "token", outcome: "failure", errorCode: "FORBIDDEN" });

    // Equal or lower roles are fair game, and the owner in the dashboard may revoke any of theirs.
    const peer = await createToken(cookie, "another-reader", "viewer");
    expect((await t.trpc("tokens.revoke", { input: { id: peer.token.id }, auth: weakAuth })).status).toBe(
      200,
    );
    expect(
      (await t.trpc("tokens.revoke", { input: { id: weak.token.id }, auth: { bearer: strong.secret } }))
        .status,
    ).toBe(200);
    expect(
      (await t.trpc("tokens.revoke", { input: { id: operator.token.id }, auth: { cookie } })).status,
    ).toBe(200);
  });

  it("judges by the acting token's current role: a demoted owner's admin token cannot revoke an operator token", async () => {
    const owner = await t.userWithToken("admin", "demoted-token-owner");
    const cookie = await t.login(owner.username, owner.password);
    const operator = await createToken(cookie, "ops", "operator");
    await setRole(owner.userId, "viewer");
    const refused = await t.trpc("tokens.revoke", {
      input: { id: operator.token.id },
      auth: { bearer: owner.token },
    });
    expect(refused.status).toBe(403);
    expect(
      (await t.db.apiToken.findUniqueOrThrow({ where: { id: operator.token.id } })).revokedAt,
    ).toBeNull();
    // The demoted person may still clean up their own stronger tokens.
    expect(
      (await t.trpc("tokens.revoke", { input: { id: operator.token.id }, auth: { cookie } })).status,
    ).toBe(200);
  });
});

describe("the sign-in limit", () => {
  it("lets no more than the limit's number of side-by-side attempts reach the password check", async () => {
    const { username, password } = await t.userWithToken("viewer", "burst-target");
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        t.trpc("auth.login", { input: { username, password: "wrong-password" } }),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    const checked = statuses.filter((status) => status === 401).length;
    // The default limit allows five failures per user name.
    expect(checked).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(12 - checked);
    expect(await t.db.loginAttempt.count({ where: { username } })).toBe(checked);

    // Topped up to the limit, the right password is refused too, and opens no session.
    for (let i = checked; i < 5; i++) {
      expect((await t.trpc("auth.login", { input: { username, password: "wrong-password" } })).status).toBe(
        401,
      );
    }
    const sessions = await t.db.session.count();
    const limited = await t.trpc("auth.login", { input: { username, password } });
    expect(limited.status).toBe(429);
    expect(limited.body.error?.data.appCode).toBe("RATE_LIMITED");
    expect(await t.db.session.count()).toBe(sessions);
    // Each refused attempt is audited as before.
    expect(
      await t.db.auditEvent.count({
        where: { action: "auth.login", target: username, errorCode: "RATE_LIMITED" },
      }),
    ).toBe(12 - checked + 1);
  });

  it("refuses a tRPC batch holding auth.login with 400, checking no password", async () => {
    const { username, password } = await t.userWithToken("viewer", "batch-target");
    const calls = [...Array.from({ length: 10 }, () => "wrong-password"), password];
    const body = Object.fromEntries(
      calls.map((attempt, index) => [String(index), { username, password: attempt }]),
    );
    const response = await fetch(`${t.url}/trpc/${calls.map(() => "auth.login").join(",")}?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    expect(response.headers.getSetCookie().some((cookie) => cookie.startsWith("tapfleet_session="))).toBe(
      false,
    );
    const answers = (await response.json()) as { error: { message: string; data: { appCode: string } } }[];
    expect(answers).toHaveLength(11);
    for (const answer of answers) {
      expect(answer.error.message).toBe(
        "auth.login cannot be sent in a tRPC batch; send it as a request of its own.",
      );
      expect(answer.error.data.appCode).toBe("INVALID_INPUT");
    }
    expect(await t.db.loginAttempt.count({ where: { username } })).toBe(0);
    expect(
      await t.db.auditEvent.count({
        where: { action: "auth.login", target: username, outcome: "failure" },
      }),
    ).toBe(11);

    // Mixed with another call, the whole batch is refused; other batches still work.
    const mixed = await fetch(`${t.url}/trpc/auth.logout,auth.login?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ "0": {}, "1": { username, password } }),
    });
    expect(mixed.status).toBe(400);
    const mixedAnswers = (await mixed.json()) as { error?: { message: string } }[];
    expect(mixedAnswers.map((answer) => answer.error?.message)).toEqual([
      "auth.login cannot be sent in a tRPC batch; send it as a request of its own.",
      "auth.login cannot be sent in a tRPC batch; send it as a request of its own.",
    ]);
    const queries = await fetch(`${t.url}/trpc/auth.me,auth.me?batch=1&input=${encodeURIComponent("{}")}`);
    expect(queries.status).toBe(200);

    // One at a time, the same person signs in.
    expect(await t.login(username, password)).toMatch(/^tapfleet_session=/);
  });
});
