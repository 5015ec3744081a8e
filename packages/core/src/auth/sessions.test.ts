import { createDb, type Db } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createUser } from "../users/users.ts";
import { loginWithPassword } from "./login.ts";
import { createSession, purgeExpiredSessions, resolveSession } from "./sessions.ts";

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, maxConnections: 2 });
});
afterAll(async () => {
  await db?.$disconnect();
  await database?.stop();
});
beforeEach(async () => {
  await database.reset();
});

const policy = { ttlMs: 60 * 60_000, idleTimeoutMs: 10 * 60_000 };
const t0 = new Date("2026-11-22T10:00:00Z");
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

describe("sessions", () => {
  it("expire after their absolute lifetime even when used all along", async () => {
    const user = await createUser({ db, username: "sam", role: "viewer", password: "sam-password-long" });
    const { cookieValue } = await createSession({ db, userId: user.id, ip: "127.0.0.1", now: t0, policy });
    for (let minute = 5; minute < 60; minute += 5) {
      expect(await resolveSession({ db, cookieValue, now: at(minute), policy })).toMatchObject({
        name: "sam",
      });
    }
    expect(await resolveSession({ db, cookieValue, now: at(61), policy })).toBeNull();
    expect(await db.session.count()).toBe(0);
  });

  it("expire when idle longer than the idle timeout", async () => {
    const user = await createUser({ db, username: "ida", role: "viewer", password: "ida-password-long" });
    const { cookieValue } = await createSession({ db, userId: user.id, ip: "127.0.0.1", now: t0, policy });
    expect(await resolveSession({ db, cookieValue, now: at(9), policy })).not.toBeNull();
    expect(await resolveSession({ db, cookieValue, now: at(18), policy })).not.toBeNull();
    expect(await resolveSession({ db, cookieValue, now: at(29), policy })).toBeNull();
  });

  it("are purged in bulk once expired", async () => {
    const user = await createUser({ db, username: "pat", role: "viewer", password: "pat-password-long" });
    await createSession({ db, userId: user.id, ip: "127.0.0.1", now: t0, policy });
    await createSession({ db, userId: user.id, ip: "127.0.0.1", now: at(50), policy });
    expect(await purgeExpiredSessions({ db, now: at(15), policy })).toBe(1);
    expect(await db.session.count()).toBe(1);
  });

  it("ignore cookies that are not ours", async () => {
    expect(await resolveSession({ db, cookieValue: "x".repeat(10) })).toBeNull();
    expect(await resolveSession({ db, cookieValue: "A".repeat(43) })).toBeNull();
  });
});

describe("login rate limit", () => {
  it("opens again once the window has passed", async () => {
    await createUser({ db, username: "rita", role: "viewer", password: "rita-password-long" });
    const rateLimit = { windowMs: 15 * 60_000, maxFailuresPerUsername: 3, maxFailuresPerIp: 100 };
    for (let i = 0; i < 3; i++) {
      await expect(
        loginWithPassword({ db, username: "rita", password: "wrong", ip: "10.1.1.1", now: at(i), rateLimit }),
      ).rejects.toMatchObject({ code: "INVALID_CREDENTIALS" });
    }
    await expect(
      loginWithPassword({
        db,
        username: "rita",
        password: "rita-password-long",
        ip: "10.1.1.1",
        now: at(5),
        rateLimit,
      }),
    ).rejects.toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 10 * 60 });
    const ok = await loginWithPassword({
      db,
      username: "rita",
      password: "rita-password-long",
      ip: "10.1.1.1",
      now: at(16),
      rateLimit,
    });
    expect(ok.user.username).toBe("rita");
  });
});
