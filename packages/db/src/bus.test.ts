import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLiveBus, LIVE_BUS_MAX_PAYLOAD, type LiveBus } from "./bus.ts";
import { createTestDatabase, type TestDatabase } from "./testing.ts";

let database: TestDatabase;
let bus: LiveBus;
let other: LiveBus;
const errors: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  bus = await createLiveBus({ url: database.url, onError: (error) => errors.push(error.message) });
  // A second bus stands for another server replica.
  other = await createLiveBus({ url: database.url });
});
afterAll(async () => {
  await other?.close();
  await bus?.close();
  await database?.stop();
});

/** Reads `count` messages of `topic` from a bus; subscribes at once, before anything is published. */
function collect(from: LiveBus, topic: string, count: number): Promise<unknown[]> {
  const controller = new AbortController();
  const messages = from.subscribe(topic, controller.signal);
  return (async () => {
    const received: unknown[] = [];
    for await (const message of messages) {
      received.push(message);
      if (received.length === count) controller.abort();
    }
    return received;
  })();
}

describe("live bus", () => {
  it("packs many messages into few notifications, and every replica gets each message in order", async () => {
    // Count the raw notifications on the bus's channel.
    const raw = new pg.Client({ connectionString: database.url });
    await raw.connect();
    let notifications = 0;
    raw.on("notification", () => (notifications += 1));
    await raw.query("LISTEN tapfleet_live");

    const messages = Array.from({ length: 100 }, (_, i) => ({ i, padding: "x".repeat(400) }));
    const here = collect(bus, "packed", messages.length);
    const there = collect(other, "packed", messages.length);
    await bus.publishMany("packed", messages);
    expect(await here).toEqual(messages);
    expect(await there).toEqual(messages);

    // About 43 kB of messages: a handful of payloads of up to 7.9 kB, not 100.
    await raw.query("SELECT 1"); // notifications sent before this query's answer have arrived
    const bytes = JSON.stringify(messages).length;
    expect(notifications).toBeGreaterThanOrEqual(Math.ceil(bytes / LIVE_BUS_MAX_PAYLOAD));
    expect(notifications).toBeLessThanOrEqual(Math.ceil(bytes / LIVE_BUS_MAX_PAYLOAD) + 1);
    await raw.end();
  });

  it("skips a message too large for one notification, says so, and delivers the others", async () => {
    errors.length = 0;
    const received = collect(other, "sizes", 2);
    await bus.publishMany("sizes", [{ n: 1 }, { n: 2, big: "y".repeat(LIVE_BUS_MAX_PAYLOAD) }, { n: 3 }]);
    expect(await received).toEqual([{ n: 1 }, { n: 3 }]);
    expect(errors.some((message) => message.includes("skipped"))).toBe(true);
  });

  it("still delivers single messages, on their topic only", async () => {
    const received = collect(other, "single", 1);
    await bus.publish("elsewhere", { ignored: true });
    await bus.publish("single", { hello: "world" });
    expect(await received).toEqual([{ hello: "world" }]);
  });

  it("gives an empty, ended subscription for a signal already aborted (a feed closed at once)", async () => {
    const controller = new AbortController();
    controller.abort();
    const received: unknown[] = [];
    for await (const message of bus.subscribe("closed-at-once", controller.signal)) received.push(message);
    expect(received).toEqual([]);
    // The bus goes on serving other subscribers.
    const later = collect(bus, "closed-at-once", 1);
    await bus.publish("closed-at-once", { after: true });
    expect(await later).toEqual([{ after: true }]);
  });
});
