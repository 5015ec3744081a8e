// The live bus: messages published by any server replica reach the
// subscribers of every replica, through PostgreSQL LISTEN/NOTIFY.
import { EventEmitter, on } from "node:events";
import pg from "pg";

const CHANNEL = "tapfleet_live";
/** NOTIFY payloads are limited to 8000 bytes; larger messages are refused rather than cut. */
export const LIVE_BUS_MAX_PAYLOAD = 7900;

/**
 * One NOTIFY payload: one message, or (from publishMany) several messages on
 * one topic packed together, so that a busy topic costs one notification per
 * few kilobytes rather than one per message.
 */
export type LiveMessage = { topic: string; data: unknown } | { topic: string; batch: unknown[] };

// The topic comes first in every payload, so a replica where nobody listens
// to it can skip the payload without parsing it.
const TOPIC_PREFIX = /^\{"topic":("(?:[^"\\]|\\.)*")/;

export interface LiveBus {
  publish(topic: string, data: unknown): Promise<void>;
  /** Many messages on one topic in one round trip (messages over the size limit are skipped and reported). */
  publishMany(topic: string, data: readonly unknown[]): Promise<void>;
  /**
   * Messages on `topic` until `signal` aborts. The listener is registered at
   * once, on call, so a caller can subscribe first and then read what it missed
   * from the database without a gap. An already-aborted signal gives an
   * empty, ended subscription.
   */
  subscribe(topic: string, signal?: AbortSignal): AsyncIterable<unknown>;
  /**
   * Hands a problem with a message to the bus's `onError` (the server's log):
   * for layers above the bus, such as the typed topics that drop a message
   * they cannot read, which have no logger of their own.
   */
  reportError(error: Error): void;
  close(): Promise<void>;
}

export async function createLiveBus(options: {
  url: string;
  onError?: (error: Error) => void;
}): Promise<LiveBus> {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const publisher = new pg.Pool({ connectionString: options.url, max: 2 });
  publisher.on("error", (error) => options.onError?.(error));
  let listener: pg.Client | undefined;
  let closed = false;

  const connectListener = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: options.url });
    client.on("notification", (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      try {
        const prefix = TOPIC_PREFIX.exec(message.payload);
        if (prefix && emitter.listenerCount(JSON.parse(prefix[1]!) as string) === 0) return;
        const parsed = JSON.parse(message.payload) as LiveMessage;
        if ("batch" in parsed) for (const data of parsed.batch) emitter.emit(parsed.topic, data);
        else emitter.emit(parsed.topic, parsed.data);
      } catch (error) {
        options.onError?.(new Error("malformed live bus message", { cause: error }));
      }
    });
    client.on("error", (error) => {
      if (closed) return;
      options.onError?.(new Error("live bus listener lost its connection; reconnecting", { cause: error }));
      void client.end().catch(() => undefined);
      if (!closed)
        setTimeout(() => void connectListener().catch((e: Error) => options.onError?.(e)), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    listener = client;
  };
  await connectListener();

  return {
    async publish(topic, data) {
      const payload = JSON.stringify({ topic, data } satisfies LiveMessage);
      if (Buffer.byteLength(payload) > LIVE_BUS_MAX_PAYLOAD) {
        throw new Error(
          `live bus message on ${topic} is ${Buffer.byteLength(payload)} bytes; the limit is ${LIVE_BUS_MAX_PAYLOAD}`,
        );
      }
      await publisher.query("SELECT pg_notify($1, $2)", [CHANNEL, payload]);
    },
    async publishMany(topic, data) {
      const head = `{"topic":${JSON.stringify(topic)},"batch":[`;
      const payloads: string[] = [];
      let items: string[] = [];
      let size = Buffer.byteLength(head) + 2;
      for (const item of data) {
        const json = JSON.stringify(item);
        const bytes = Buffer.byteLength(json);
        if (Buffer.byteLength(head) + bytes + 2 > LIVE_BUS_MAX_PAYLOAD) {
          options.onError?.(new Error(`live bus message on ${topic} is ${bytes} bytes; skipped`));
          continue;
        }
        if (size + bytes + 1 > LIVE_BUS_MAX_PAYLOAD) {
          payloads.push(`${head}${items.join(",")}]}`);
          items = [];
          size = Buffer.byteLength(head) + 2;
        }
        items.push(json);
        size += bytes + 1;
      }
      if (items.length > 0) payloads.push(`${head}${items.join(",")}]}`);
      if (payloads.length === 0) return;
      // One parameter per payload: an array literal would have to escape every quote in them.
      await publisher.query(
        `SELECT pg_notify($1, payload) FROM (VALUES ${payloads.map((_, i) => `($${i + 2}::text)`).join(", ")}) AS p(payload)`,
        [CHANNEL, ...payloads],
      );
    },
    subscribe(topic, signal) {
      // events.on throws at once on a signal that is already aborted: a
      // subscription whose reader has already gone is simply empty and ended.
      if (signal?.aborted) return { async *[Symbol.asyncIterator]() {} };
      const events = on(emitter, topic, signal ? { signal } : {});
      return {
        async *[Symbol.asyncIterator]() {
          try {
            for await (const [data] of events) yield data as unknown;
          } catch (error) {
            if ((error as Error).name !== "AbortError") throw error;
          }
        },
      };
    },
    reportError(error) {
      options.onError?.(error);
    },
    async close() {
      closed = true;
      emitter.removeAllListeners();
      await listener?.end().catch(() => undefined);
      await publisher.end();
    },
  };
}
