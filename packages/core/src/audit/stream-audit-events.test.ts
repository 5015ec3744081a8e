// The live audit stream against a real PostgreSQL and live bus: events are
// delivered in id order and exactly once even when they commit, or are
// announced, out of order (two replicas writing at once).
import { createDb, createLiveBus, type Db, type LiveBus } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { publishTopic } from "../live/topics.ts";
import {
  AUDIT_TOPIC,
  listAuditEventsAfter,
  recordAuditEvent,
  serializeAuditEvent,
  streamAuditEvents,
  type AuditEventView,
} from "./audit.ts";

let database: TestDatabase;
let db: Db;
/** The bus of the replica serving the stream, and of another replica writing events. */
let bus: LiveBus;
let otherBus: LiveBus;
let writer: pg.Client;
const streams: AbortController[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, maxConnections: 3 });
  bus = await createLiveBus({ url: database.url });
  otherBus = await createLiveBus({ url: database.url });
  writer = new pg.Client({ connectionString: database.url });
  await writer.connect();
});
afterEach(() => {
  for (const controller of streams.splice(0)) controller.abort();
});
afterAll(async () => {
  await writer?.end();
  await otherBus?.close();
  await bus?.close();
  await db?.$disconnect();
  await database?.stop();
});

const system = { type: "system", name: "tapfleet" } as const;

async function latestId(): Promise<string> {
  const row = await db.auditEvent.findFirst({ orderBy: { id: "desc" }, select: { id: true } });
  return (row?.id ?? 0n).toString();
}

/** Starts an audit event on `writer` in an open transaction; returns its id (not yet visible to others). */
async function beginSlowInsert(action: string): Promise<string> {
  await writer.query("BEGIN");
  const { rows } = await writer.query<{ id: string }>(
    `INSERT INTO "AuditEvent" ("actorType", "actorName", "action", "outcome")
     VALUES ('system', 'tapfleet', $1, 'success') RETURNING id::text AS id`,
    [action],
  );
  return rows[0]!.id;
}

/** Announces an event on the live topic as recordAuditEvent does after its insert. */
async function announce(id: string): Promise<void> {
  const [event] = await listAuditEventsAfter({ db, afterId: (BigInt(id) - 1n).toString(), limit: 1 });
  expect(event?.id).toBe(id);
  await publishTopic(otherBus, AUDIT_TOPIC, serializeAuditEvent(event!));
}

function open(options: { afterId: string; gapWaitMs?: number }): AsyncIterator<AuditEventView> {
  const controller = new AbortController();
  streams.push(controller);
  return streamAuditEvents({ db, bus, signal: controller.signal, ...options })[Symbol.asyncIterator]();
}

async function nextId(stream: AsyncIterator<AuditEventView>): Promise<string | undefined> {
  const next = await stream.next();
  return next.done ? undefined : next.value.id;
}

describe("streamAuditEvents", () => {
  it("delivers in id order an event that commits after a later one was announced", async () => {
    // Waiting this long for a gap means the order below cannot depend on timing.
    const stream = open({ afterId: await latestId(), gapWaitMs: 60_000 });
    const first = nextId(stream);
    const slow = await beginSlowInsert("test.slow");
    const fast = await recordAuditEvent({
      db,
      bus: otherBus,
      actor: system,
      action: "test.fast",
      outcome: "success",
    });
    expect(BigInt(fast.id)).toBe(BigInt(slow) + 1n);
    await writer.query("COMMIT");
    await announce(slow);
    expect(await first).toBe(slow);
    expect(await nextId(stream)).toBe(fast.id);
    const closing = await recordAuditEvent({
      db,
      bus: otherBus,
      actor: system,
      action: "test.closing",
      outcome: "success",
    });
    expect(await nextId(stream)).toBe(closing.id);
  });

  it("delivers in id order events announced out of order, each once", async () => {
    const stream = open({ afterId: await latestId(), gapWaitMs: 60_000 });
    const first = nextId(stream);
    const slow = await beginSlowInsert("test.slow");
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      // Committed before the lower id, and announced first.
      const { rows } = await other.query<{ id: string }>(
        `INSERT INTO "AuditEvent" ("actorType", "actorName", "action", "outcome")
         VALUES ('system', 'tapfleet', 'test.fast', 'success') RETURNING id::text AS id`,
      );
      await writer.query("COMMIT");
      await announce(rows[0]!.id);
      await announce(slow);
      expect(await first).toBe(slow);
      expect(await nextId(stream)).toBe(rows[0]!.id);
    } finally {
      await other.end();
    }
    const closing = await recordAuditEvent({
      db,
      bus: otherBus,
      actor: system,
      action: "test.closing",
      outcome: "success",
    });
    expect(await nextId(stream)).toBe(closing.id);
  });

  it("passes over an id that never comes (a rolled back insert) after the gap wait", async () => {
    const stream = open({ afterId: await latestId(), gapWaitMs: 200 });
    const first = nextId(stream);
    const lost = await beginSlowInsert("test.rolledBack");
    await writer.query("ROLLBACK");
    const after = await recordAuditEvent({
      db,
      bus: otherBus,
      actor: system,
      action: "test.after",
      outcome: "success",
    });
    expect(BigInt(after.id)).toBe(BigInt(lost) + 1n);
    expect(await first).toBe(after.id);
  });

  it("starts after lastEventId with what was missed, then goes on live", async () => {
    const from = await latestId();
    const missed = await recordAuditEvent({
      db,
      bus: otherBus,
      actor: system,
      action: "test.missed",
      outcome: "success",
    });
    const stream = open({ afterId: from });
    expect(await nextId(stream)).toBe(missed.id);
    const live = await recordAuditEvent({
      db,
      bus: otherBus,
      actor: system,
      action: "test.live",
      outcome: "success",
    });
    expect(await nextId(stream)).toBe(live.id);
  });

  it("ends when its signal aborts", async () => {
    const controller = new AbortController();
    const stream = streamAuditEvents({ db, bus, signal: controller.signal })[Symbol.asyncIterator]();
    const next = stream.next();
    controller.abort();
    expect((await next).done).toBe(true);
  });
});
