// The audit log's live stream over real HTTP: two replicas writing at once can
// commit and announce events out of id order; audit.live still delivers each
// once, in id order, so a client resuming from the last id it saw misses none.
import { AUDIT_TOPIC, listAuditEventsAfter, publishTopic, serializeAuditEvent } from "@tapfleet/core";
import { createLiveBus, type LiveBus } from "@tapfleet/db";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./harness.ts";
import { readSse } from "./sse.ts";

let t: TestServer;
/** The bus of another replica, which announces what it records. */
let bus: LiveBus;
let admin: string;

beforeAll(async () => {
  t = await startTestServer();
  bus = await createLiveBus({ url: t.database.url });
  admin = (await t.userWithToken("admin", "audit-live-admin")).token;
});
afterAll(async () => {
  await bus?.close();
  await t?.stop();
});

async function insertEvent(client: pg.Client, action: string): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO "AuditEvent" ("actorType", "actorName", "action", "outcome")
     VALUES ('system', 'tapfleet', $1, 'success') RETURNING id::text AS id`,
    [action],
  );
  return rows[0]!.id;
}

async function announce(id: string): Promise<void> {
  const [event] = await listAuditEventsAfter({ db: t.db, afterId: (BigInt(id) - 1n).toString(), limit: 1 });
  expect(event?.id).toBe(id);
  await publishTopic(bus, AUDIT_TOPIC, serializeAuditEvent(event!));
}

describe("audit.live", () => {
  it("delivers events committed and announced out of id order in id order, each once", async () => {
    const latest = await t.db.auditEvent.findFirst({ orderBy: { id: "desc" } });
    const controller = new AbortController();
    const input = encodeURIComponent(JSON.stringify({ lastEventId: (latest?.id ?? 0n).toString() }));
    const response = await fetch(`${t.url}/trpc/audit.live?input=${input}`, {
      headers: { authorization: `Bearer ${admin}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);

    const slow = new pg.Client({ connectionString: t.database.url });
    const fast = new pg.Client({ connectionString: t.database.url });
    await Promise.all([slow.connect(), fast.connect()]);
    let earlier: string, later: string, closing: string;
    try {
      // One replica takes the smaller id and commits last; the other commits and announces first.
      await slow.query("BEGIN");
      earlier = await insertEvent(slow, "test.earlier");
      later = await insertEvent(fast, "test.later");
      await slow.query("COMMIT");
      expect(BigInt(later)).toBe(BigInt(earlier) + 1n);
      await announce(later);
      await announce(earlier);
      closing = await insertEvent(fast, "test.closing");
      await announce(closing);
    } finally {
      await Promise.all([slow.end(), fast.end()]);
    }

    const events = await readSse(response).readUntil<{ id: string; action: string }>(
      (received) => received.some((e) => e.id === closing),
      20_000,
    );
    controller.abort();
    expect(events.map((e) => e.id)).toEqual([earlier, later, closing]);
  });
});
