// Accounts and the audit log's detail, over real HTTP against a real PostgreSQL.
import type { ErrorResponse } from "@tapfleet/api";
import { verifyPassword } from "@tapfleet/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServerEnv } from "../src/env.ts";
import { startTestServer, type TestServer } from "./harness.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.stop();
});

async function changeMyPassword(cookie: string, body: unknown) {
  const response = await fetch(`${t.url}/api/v1/me/password`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Partial<ErrorResponse> };
}

async function lastEvent(action: string) {
  return t.db.auditEvent.findFirstOrThrow({ where: { action }, orderBy: { id: "desc" } });
}

describe("changing your own password", () => {
  it("refuses a wrong current password with 400 naming the field, and changes nothing", async () => {
    const user = await t.userWithToken("viewer", "wrong-current");
    const cookie = await t.login(user.username, user.password);
    const other = await t.login(user.username, user.password);
    const before = await t.db.user.findUniqueOrThrow({ where: { id: user.userId } });

    const result = await changeMyPassword(cookie, {
      currentPassword: "not-my-password-at-all",
      newPassword: "violet-harbor-lantern-42",
    });
    expect(result.status).toBe(400);
    expect(result.body.error?.message).toBe("currentPassword: is not your current password");
    expect(result.body.error?.fieldErrors).toEqual({ currentPassword: ["is not your current password"] });

    const trpc = await t.trpc("users.changeMyPassword", {
      input: { currentPassword: "not-my-password-at-all", newPassword: "violet-harbor-lantern-42" },
      auth: { cookie },
    });
    expect(trpc.status).toBe(400);
    expect(trpc.body.error?.data.zodError).toEqual({
      fieldErrors: { currentPassword: ["is not your current password"] },
    });

    const unchanged = await t.db.user.findUniqueOrThrow({ where: { id: user.userId } });
    expect(unchanged.passwordHash).toBe(before.passwordHash);
    expect((await t.trpc("tokens.list", { auth: { cookie: other } })).status).toBe(200);

    const event = await lastEvent("users.changeMyPassword");
    expect(event).toMatchObject({
      outcome: "failure",
      message: "currentPassword: is not your current password",
      target: user.userId,
      targetName: user.username,
    });
    expect(JSON.stringify(event.detail)).not.toContain("not-my-password-at-all");
    expect(JSON.stringify(event.detail)).not.toContain("violet-harbor-lantern-42");
  });

  it("changes it, signs out the user's other sessions and keeps this one", async () => {
    const user = await t.userWithToken("operator", "changes-own");
    const current = await t.login(user.username, user.password);
    const other = await t.login(user.username, user.password);
    const bystander = await t.userWithToken("viewer", "bystander");
    const bystanderCookie = await t.login(bystander.username, bystander.password);

    const result = await changeMyPassword(current, {
      currentPassword: user.password,
      newPassword: "violet-harbor-lantern-42",
    });
    expect(result).toEqual({ status: 200, body: { ok: true, otherSessionsEnded: 1 } });

    expect((await t.trpc("tokens.list", { auth: { cookie: current } })).status).toBe(200);
    expect((await t.trpc("tokens.list", { auth: { cookie: other } })).status).toBe(401);
    expect((await t.trpc("tokens.list", { auth: { cookie: bystanderCookie } })).status).toBe(200);
    // The user's API token is not a session: it keeps working.
    expect((await t.trpc("tokens.list", { auth: { bearer: user.token } })).status).toBe(200);

    const stored = await t.db.user.findUniqueOrThrow({ where: { id: user.userId } });
    expect(await verifyPassword(stored.passwordHash, "violet-harbor-lantern-42")).toBe(true);
    await expect(t.login(user.username, user.password)).rejects.toThrow(/401/);

    const event = await lastEvent("users.changeMyPassword");
    expect(event).toMatchObject({ outcome: "success", actorName: user.username, message: null });
    expect(JSON.stringify(event.detail)).toContain("[redacted]");
    expect(JSON.stringify(event.detail)).not.toContain("violet-harbor-lantern-42");
  });

  it("refuses a common new password naming the field, with the checker's advice", async () => {
    const user = await t.userWithToken("viewer", "weak-new");
    const cookie = await t.login(user.username, user.password);
    const before = await t.db.user.findUniqueOrThrow({ where: { id: user.userId } });
    const result = await changeMyPassword(cookie, {
      currentPassword: user.password,
      newPassword: "aaaaaaaaaaaa",
    });
    expect(result.status).toBe(400);
    // REST answers a validation error with the messages of each field at fault.
    expect(result.body.error?.code).toBe("INVALID_INPUT");
    expect(result.body.error?.fieldErrors).toEqual({
      newPassword: [expect.stringMatching(/^is too easy to guess: Repeated characters like "aaa"/)],
    });
    expect((await t.db.user.findUniqueOrThrow({ where: { id: user.userId } })).passwordHash).toBe(
      before.passwordHash,
    );
  });

  it("counts wrong current passwords against the sign-in limit, atomically, and then refuses even the right one", async () => {
    const user = await t.userWithToken("viewer", "guessed-from-a-stolen-session");
    const cookie = await t.login(user.username, user.password);
    const before = await t.db.user.findUniqueOrThrow({ where: { id: user.userId } });
    const guess = (i: number) =>
      changeMyPassword(cookie, {
        currentPassword: `guess-number-${i}`,
        newPassword: "violet-harbor-lantern-42",
      });
    // Sent at once, as a guesser would: no more than the limit (5 per user name) reach the check.
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => guess(i)));
    const checked = burst.filter((g) => g.status === 400).length;
    expect(checked).toBeLessThanOrEqual(5);
    expect(burst.filter((g) => g.status === 429)).toHaveLength(8 - checked);
    // One by one after that: exactly the rest of the limit reaches the check.
    const after = [];
    for (let i = 8; i < 16; i++) after.push((await guess(i)).status);
    expect(after).toEqual([...Array<number>(5 - checked).fill(400), ...Array<number>(3 + checked).fill(429)]);
    const refused = burst.find((g) => g.status === 429)!;
    expect(refused.body.error?.message).toMatch(
      /^Too many wrong passwords for this account\. Try again in \d+ s\.$/,
    );

    const right = await changeMyPassword(cookie, {
      currentPassword: user.password,
      newPassword: "violet-harbor-lantern-42",
    });
    expect(right.status).toBe(429);
    const unchanged = await t.db.user.findUniqueOrThrow({ where: { id: user.userId } });
    expect(unchanged.passwordHash).toBe(before.passwordHash);
    // The same limit guards signing in under that name.
    const signIn = await t.trpc("auth.login", {
      input: { username: user.username, password: user.password },
    });
    expect(signIn.status).toBe(429);
    expect(signIn.body.error?.data.appCode).toBe("RATE_LIMITED");
  });

  it("is refused to an API token, which has no password", async () => {
    const user = await t.userWithToken("admin", "token-caller");
    const result = await t.trpc("users.changeMyPassword", {
      input: { currentPassword: user.password, newPassword: "violet-harbor-lantern-42" },
      auth: { bearer: user.token },
    });
    expect(result.status).toBe(403);
    expect(result.body.error?.message).toMatch(/API token has no password/);
  });
});

describe("the password rule", () => {
  it("refuses a common password when an admin creates a user or sets a password, naming the field", async () => {
    const admin = await t.userWithToken("admin", "rule-admin");
    const usersBefore = await t.db.user.count();
    const created = await t.trpc("users.create", {
      input: { username: "weakling", role: "viewer", password: "aaaaaaaaaaaa" },
      auth: { bearer: admin.token },
    });
    expect(created.status).toBe(400);
    expect(created.body.error?.message).toMatch(/^password: is too easy to guess/);
    expect(created.body.error?.data.zodError).toMatchObject({
      fieldErrors: { password: [expect.stringMatching(/too easy to guess/)] },
    });
    expect(await t.db.user.count()).toBe(usersBefore);

    const set = await t.trpc("users.setPassword", {
      input: { id: admin.userId, password: "password1234" },
      auth: { bearer: admin.token },
    });
    expect(set.status).toBe(400);
    expect(set.body.error?.message).toMatch(/^password: is too easy to guess/);
  });

  it("applies to TAPFLEET_ADMIN_PASSWORD, in one line naming the variable", () => {
    let message = "";
    try {
      loadServerEnv({ TAPFLEET_ADMIN_PASSWORD: "aaaaaaaaaaaa" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^invalid configuration: TAPFLEET_ADMIN_PASSWORD: is too easy to guess/);
    expect(message).not.toContain("\n");
    expect(
      loadServerEnv({ TAPFLEET_ADMIN_PASSWORD: "violet-harbor-lantern-42" }).TAPFLEET_ADMIN_PASSWORD,
    ).toBe("violet-harbor-lantern-42");
  });
});

describe("audit detail", () => {
  it("records what changed and names the target, not its id", async () => {
    const admin = await t.userWithToken("admin", "detail-admin");
    const target = await t.userWithToken("viewer", "promoted");
    const result = await t.trpc("users.update", {
      input: { id: target.userId, role: "operator", displayName: "Promoted Person" },
      auth: { bearer: admin.token },
    });
    expect(result.status).toBe(200);

    const response = await fetch(`${t.url}/api/v1/audit?limit=1&action=users.update`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    const body = (await response.json()) as { items: Record<string, unknown>[] };
    expect(body.items[0]).toMatchObject({
      action: "users.update",
      actorName: "detail-admin-token",
      target: target.userId,
      targetName: "promoted",
      outcome: "success",
      message: null,
      changes: [
        { field: "role", from: "viewer", to: "operator" },
        { field: "displayName", from: null, to: "Promoted Person" },
      ],
      detail: { id: target.userId, role: "operator", displayName: "Promoted Person" },
    });
  });

  it("names the user who signed in on a successful sign-in, not an anonymous caller", async () => {
    const user = await t.userWithToken("viewer", "signs-in");
    await t.login(user.username, user.password);
    const event = await lastEvent("auth.login");
    expect(event).toMatchObject({ outcome: "success", actorType: "user", actorName: "signs-in" });
    expect(event.actorId).toBe(user.userId);
  });

  it("keeps a deleted user's name on the event that deleted them", async () => {
    const admin = await t.userWithToken("admin", "deleting-admin");
    const doomed = await t.userWithToken("viewer", "doomed");
    expect(
      (await t.trpc("users.delete", { input: { id: doomed.userId }, auth: { bearer: admin.token } })).status,
    ).toBe(200);
    expect(await lastEvent("users.delete")).toMatchObject({ target: doomed.userId, targetName: "doomed" });
  });

  it("records the message of a failure, not only its code", async () => {
    const admin = await t.userWithToken("admin", "failing-admin");
    const refused = await t.trpc("users.create", {
      input: { username: "x", role: "viewer", password: "aaaaaaaaaaaa" },
      auth: { bearer: admin.token },
    });
    expect(refused.status).toBe(400);
    const event = await lastEvent("users.create");
    expect(event.outcome).toBe("failure");
    expect(event.errorCode).toBe("BAD_REQUEST");
    expect(event.message).toMatch(/username: must be at least 3 characters/);
    expect(event.message).toMatch(/password: is too easy to guess/);
    expect(JSON.stringify(event.detail)).not.toContain("aaaaaaaaaaaa");

    const missing = await t.trpc("users.update", {
      input: { id: "00000000-0000-4000-8000-000000000000", role: "operator" },
      auth: { bearer: admin.token },
    });
    expect(missing.status).toBe(404);
    expect(await lastEvent("users.update")).toMatchObject({
      outcome: "failure",
      errorCode: "NOT_FOUND",
      message: "No such user.",
      changes: null,
    });
  });

  it("offers the recorded actions for filtering, and filters on one exactly", async () => {
    const admin = await t.userWithToken("admin", "filter-admin");
    const actions = await fetch(`${t.url}/api/v1/audit/actions`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(actions.status).toBe(200);
    const { items } = (await actions.json()) as { items: string[] };
    const recorded = await t.db.auditEvent.groupBy({ by: ["action"] });
    expect(items).toEqual(recorded.map((row) => row.action).sort());
    expect(items).toContain("users.update");

    const page = await fetch(`${t.url}/api/v1/audit?limit=200&action=users`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(((await page.json()) as { items: unknown[] }).items).toEqual([]);

    const { token } = await t.userWithToken("operator", "filter-operator");
    const refused = await fetch(`${t.url}/api/v1/audit/actions`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(403);
  });
});
