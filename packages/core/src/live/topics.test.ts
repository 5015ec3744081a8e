import { createLiveBus, type LiveBus } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTopic, publishTopic, publishTopicMany, subscribeTopic } from "./topics.ts";

let database: TestDatabase;
/** The subscribing replica, whose bus errors are its log. */
let bus: LiveBus;
/** Another replica, publishing. */
let other: LiveBus;
const logged: Error[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  bus = await createLiveBus({ url: database.url, onError: (error) => logged.push(error) });
  other = await createLiveBus({ url: database.url });
});
afterAll(async () => {
  await other?.close();
  await bus?.close();
  await database?.stop();
});

const ZGreetingSchema = z.object({ to: z.string(), times: z.number().int().default(1) });
const GREETINGS = defineTopic("test-greetings", ZGreetingSchema);

/** The first `count` messages of the subscription; it registers at once, before anything is published. */
function collect<T>(messages: (signal: AbortSignal) => AsyncIterable<T>, count: number): Promise<T[]> {
  const controller = new AbortController();
  const iterable = messages(controller.signal);
  return (async () => {
    const received: T[] = [];
    for await (const message of iterable) {
      received.push(message);
      if (received.length === count) controller.abort();
    }
    return received;
  })();
}

describe("typed live topics", () => {
  it("round-trips messages from one replica to another, parsed with the topic's schema", async () => {
    const received = collect((signal) => subscribeTopic(bus, GREETINGS, signal), 3);
    await publishTopic(other, GREETINGS, { to: "eu-1", times: 2 });
    await publishTopicMany(other, GREETINGS, [{ to: "eu-2" }, { to: "us-1", times: 3 }]);
    // The schema's default is applied on receipt: subscribers see the parsed type.
    expect(await received).toEqual([
      { to: "eu-1", times: 2 },
      { to: "eu-2", times: 1 },
      { to: "us-1", times: 3 },
    ]);
  });

  it("drops a malformed message with a log line naming the topic and field, and the stream goes on", async () => {
    logged.length = 0;
    const received = collect((signal) => subscribeTopic(bus, GREETINGS, signal), 1);
    // What an older or broken replica could send: the untyped bus takes anything.
    await other.publish(GREETINGS.name, { to: 42 });
    await other.publish(GREETINGS.name, "not even an object");
    await publishTopic(other, GREETINGS, { to: "after" });
    expect(await received).toEqual([{ to: "after", times: 1 }]);
    expect(logged.map((error) => error.message)).toEqual([
      expect.stringMatching(/^dropped a malformed message on live topic test-greetings: to: /),
      expect.stringMatching(/^dropped a malformed message on live topic test-greetings: message: /),
    ]);
  });

  it("keeps topics apart", async () => {
    const OTHER = defineTopic("test-other", z.object({ n: z.number() }));
    const received = collect((signal) => subscribeTopic(bus, OTHER, signal), 1);
    await publishTopic(other, GREETINGS, { to: "not for OTHER" });
    await publishTopic(other, OTHER, { n: 7 });
    expect(await received).toEqual([{ n: 7 }]);
  });
});
