import { createServer, type AddressInfo, type Socket } from "node:net";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLeaderLock, type LeaderLock, type LeaderLockOptions } from "./leader-lock.ts";
import { createTestDatabase, type TestDatabase } from "./testing.ts";

let database: TestDatabase;
let admin: pg.Client;
const locks: LeaderLock[] = [];
const errors: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
});
afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.close();
  errors.length = 0;
});
afterAll(async () => {
  await admin?.end();
  await database?.stop();
});

async function start(options: Partial<LeaderLockOptions> = {}): Promise<LeaderLock> {
  const lock = await startLeaderLock({
    url: database.url,
    retryIntervalMs: 100,
    onError: (error) => errors.push(error.message),
    ...options,
  });
  locks.push(lock);
  return lock;
}

/** Resolves on the lock's next change to `value`. */
function becomes(lock: LeaderLock, value: boolean): Promise<void> {
  return new Promise((resolve) => {
    const off = lock.onChange((leader) => {
      if (leader !== value) return;
      off();
      resolve();
    });
  });
}

/** Fails the test if both locks ever report leader at a change of either. */
function watchForTwoLeaders(a: LeaderLock, b: LeaderLock): string[] {
  const violations: string[] = [];
  const check = () => {
    if (a.isLeader() && b.isLeader()) violations.push(new Date().toISOString());
  };
  a.onChange(check);
  b.onChange(check);
  return violations;
}

async function lockHolders(): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted",
  );
  return rows.map((row) => row.pid);
}

describe("leader lock", () => {
  it("makes the first replica leader at once and the second a follower", async () => {
    const a = await start();
    const b = await start();
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(await lockHolders()).toHaveLength(1);
  });

  it("hands leadership to the follower when the leader closes, and releases the lock", async () => {
    const a = await start();
    const b = await start();
    const violations = watchForTwoLeaders(a, b);
    const takenOver = becomes(b, true);
    await a.close();
    expect(a.isLeader()).toBe(false);
    await takenOver;
    expect(b.isLeader()).toBe(true);
    await b.close();
    expect(await lockHolders()).toEqual([]);
    expect(violations).toEqual([]);
  });

  it("steps down at once when its connection is terminated, then someone leads again", async () => {
    // Checks are rare here: the step-down must come from the connection's own failure.
    const a = await start({ checkIntervalMs: 60_000 });
    const b = await start({ checkIntervalMs: 60_000 });
    const violations = watchForTwoLeaders(a, b);
    const [holder] = await lockHolders();
    expect(holder).toBeDefined();
    const steppedDown = becomes(a, false);
    const terminatedAt = Date.now();
    await admin.query("SELECT pg_terminate_backend($1)", [holder]);
    await steppedDown;
    expect(Date.now() - terminatedAt).toBeLessThan(1000);
    expect(errors.some((message) => message.includes("stepped down"))).toBe(true);
    // Either may win the next round; one of them does, and only one.
    await Promise.race([becomes(a, true), becomes(b, true)]);
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    const holders = await lockHolders();
    expect(holders).toHaveLength(1);
    expect(holders[0]).not.toBe(holder);
    expect(violations).toEqual([]);
  });

  it("keeps trying while the database is unreachable, and reports why", async () => {
    // Nothing listens on port 1, so each attempt is refused at once; the test
    // waits for this lock's own second report (not the shared list's length,
    // which a lock of an earlier test once grew).
    const own: string[] = [];
    let secondAttempt!: () => void;
    const retried = new Promise<void>((resolve) => (secondAttempt = resolve));
    const lock = await start({
      url: "postgresql://nobody@127.0.0.1:1/none",
      checkTimeoutMs: 500,
      onError: (error) => {
        own.push(error.message);
        if (own.length === 2) secondAttempt();
      },
    });
    expect(lock.isLeader()).toBe(false);
    expect(own[0]).toMatch(/cannot connect for the leader lock/);
    await retried;
    expect(own[1]).toMatch(/cannot connect for the leader lock/);
    expect(lock.isLeader()).toBe(false);
  });

  it("reports nothing once closed, even with a connection attempt under way", async () => {
    // A server that accepts connections and never answers: every attempt hangs until closed or timed out.
    const sockets: Socket[] = [];
    let secondConnection!: () => void;
    const retrying = new Promise<void>((resolve) => (secondConnection = resolve));
    const silent = createServer((socket) => {
      sockets.push(socket);
      if (sockets.length === 2) secondConnection();
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const own: string[] = [];
      let reportedAgain!: () => void;
      const reported = new Promise<void>((resolve) => (reportedAgain = resolve));
      const lock = await start({
        url: `postgresql://nobody@127.0.0.1:${port}/none`,
        checkTimeoutMs: 300,
        retryIntervalMs: 10,
        onError: (error) => {
          own.push(error.message);
          if (own.length > 1) reportedAgain();
        },
      });
      expect(own).toEqual([expect.stringMatching(/cannot connect for the leader lock/)]);
      await retrying;
      const closedSocket = new Promise<void>((resolve) => sockets[1]!.once("close", () => resolve()));
      await lock.close();
      // The attempt under way was ended by closing, not left to time out and report.
      await Promise.race([closedSocket, reported]);
      expect(own).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
