// Typed live topics over the untyped live bus. A topic pairs the bus's topic
// name with the zod schema of its messages, so publishers and subscribers
// share one definition and never cast: what is published is checked against
// the type, and what is received (possibly from another replica running
// another version) is checked against the schema. A message that does not fit
// is reported to the bus's error log and dropped; the stream goes on.
import type { LiveBus } from "@tapfleet/db";
import type { z } from "zod";

export interface LiveTopic<Schema extends z.ZodType> {
  readonly name: string;
  readonly schema: Schema;
}

/** A live topic: its name on the bus and the schema of its messages. */
export function defineTopic<Schema extends z.ZodType>(name: string, schema: Schema): LiveTopic<Schema> {
  return Object.freeze({ name, schema });
}

/** Publishes one message on `topic` (to every replica's subscribers). */
export async function publishTopic<Schema extends z.ZodType>(
  bus: LiveBus,
  topic: LiveTopic<Schema>,
  value: z.input<Schema>,
): Promise<void> {
  await bus.publish(topic.name, value);
}

/** Publishes many messages on `topic` in few notifications (see LiveBus.publishMany). */
export async function publishTopicMany<Schema extends z.ZodType>(
  bus: LiveBus,
  topic: LiveTopic<Schema>,
  values: readonly z.input<Schema>[],
): Promise<void> {
  await bus.publishMany(topic.name, values);
}

/**
 * The messages on `topic` until `signal` aborts, each parsed with the topic's
 * schema. Like LiveBus.subscribe, the listener is registered on call, so a
 * caller may subscribe first and read what it missed from the database after.
 */
export function subscribeTopic<Schema extends z.ZodType>(
  bus: LiveBus,
  topic: LiveTopic<Schema>,
  signal?: AbortSignal,
): AsyncIterable<z.output<Schema>> {
  const messages = bus.subscribe(topic.name, signal);
  return {
    async *[Symbol.asyncIterator]() {
      for await (const message of messages) {
        const parsed = topic.schema.safeParse(message);
        if (parsed.success) {
          yield parsed.data;
          continue;
        }
        const issue = parsed.error.issues[0];
        bus.reportError(
          new Error(
            `dropped a malformed message on live topic ${topic.name}: ${issue ? `${issue.path.join(".") || "message"}: ${issue.message}` : "invalid"}`,
          ),
        );
      }
    },
  };
}
