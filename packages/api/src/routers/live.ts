// One live stream per browser tab: `live.stream` carries any set of the live
// feeds (the individual subscription procedures, e.g. `inventory.live`) over
// one SSE connection, because browsers open at most six HTTP/1.1 connections
// per host and a page with five streams in two tabs runs out.
//
// Each feed is the procedure itself, called through a tRPC caller: its input
// is checked by its own schema, its role by its own middleware (and checked
// again while it runs), its events are its own. A feed that is refused, ends
// or fails reports so under its key and the others go on; the stream ends
// when every feed has ended.
//
// Resume: a feed whose procedure yields `tracked()` ids (audit.live) resumes
// from its last id. Every message of the stream is tracked with the
// positions of all its feeds (JSON, by feed key), so the `lastEventId` that
// tRPC's client sends when it reconnects resumes each feed where it was.
// Feeds without ids cannot be replayed: their `started` says `resumed:
// false`, and the client reads what it shows again.
//
// The pod log (kube.podLog) stays a stream of its own: it is long and heavy
// (thousands of lines of tail at once would hold up every other feed of the
// tab), it cannot resume (a reconnect replays the tail), and it ends when
// the container exits.
import { isTrackedEnvelope, tracked, type TrackedEnvelope } from "@trpc/server";
import { APP_ERROR_CODES } from "@tapfleet/core";
import { z } from "zod";
import { answerForError } from "../errors.ts";
import { createCallerFactory, router, viewerProcedure } from "../trpc.ts";
import { auditRouter } from "./audit.ts";
import { debugLevelRouter } from "./debug-level.ts";
import { inventoryRouter } from "./inventory.ts";
import { rolloutsRouter } from "./rollouts.ts";
import { sensorDriftRouter } from "./sensor-drift.ts";
import { sensorsRouter } from "./sensors.ts";
import { statsRouter } from "./stats.ts";

/** The procedures a live stream may carry, called as they are called on their own. */
const feedRouter = router({
  inventory: router({ live: inventoryRouter.live }),
  sensors: router({ live: sensorsRouter.live }),
  stats: router({ live: statsRouter.live, clusterLive: statsRouter.clusterLive }),
  audit: router({ live: auditRouter.live }),
  rollouts: router({ live: rolloutsRouter.live }),
  sensorDrift: router({ live: sensorDriftRouter.live }),
  debugLevel: router({ live: debugLevelRouter.live }),
});
const createFeedCaller = createCallerFactory(feedRouter);
type FeedCaller = ReturnType<typeof createFeedCaller>;

/**
 * Each feed's procedure, and whether it resumes: takes `lastEventId` in its
 * input and yields `tracked()` ids (tRPC's convention for resumable streams).
 * The input is checked by the procedure itself.
 */
const FEEDS = {
  "inventory.live": {
    resumes: false,
    call: (c: FeedCaller, input: unknown) => c.inventory.live(input as never),
  },
  "sensors.live": { resumes: false, call: (c: FeedCaller, input: unknown) => c.sensors.live(input as never) },
  "stats.live": { resumes: false, call: (c: FeedCaller, input: unknown) => c.stats.live(input as never) },
  "stats.clusterLive": {
    resumes: false,
    call: (c: FeedCaller, input: unknown) => c.stats.clusterLive(input as never),
  },
  "audit.live": { resumes: true, call: (c: FeedCaller, input: unknown) => c.audit.live(input as never) },
  "rollouts.live": {
    resumes: false,
    call: (c: FeedCaller, input: unknown) => c.rollouts.live(input as never),
  },
  "sensorDrift.live": {
    resumes: false,
    call: (c: FeedCaller, input: unknown) => c.sensorDrift.live(input as never),
  },
  "debugLevel.live": {
    resumes: false,
    call: (c: FeedCaller, input: unknown) => c.debugLevel.live(input as never),
  },
} as const;

/** The paths of the feeds a live stream may carry. */
export const LIVE_FEED_PATHS = Object.keys(FEEDS) as (keyof typeof FEEDS)[];
export type LiveFeedPath = keyof typeof FEEDS;

const ZFeedKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,32}$/, "must be 1 to 32 letters, digits, '-' or '_'");
const ZEventIdSchema = z.string().min(1).max(64);

/** Each feed's last event id by feed key: the id of every message of a stream. */
const ZPositionsSchema = z
  .string()
  .max(8192)
  .transform((text, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const parsed = z.record(ZFeedKeySchema, ZEventIdSchema).safeParse(value);
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: "custom", message: "must be an event id of this stream" });
    return z.NEVER;
  });

export const ZLiveStreamInputSchema = z.object({
  feeds: z
    .array(
      z.object({
        /** Names the feed in every message; chosen by the client. */
        key: ZFeedKeySchema,
        path: z.enum(LIVE_FEED_PATHS, { error: `must be one of ${LIVE_FEED_PATHS.join(", ")}` }),
        /** The feed procedure's own input, checked by it. */
        input: z.unknown().optional(),
        /** Resume after this event (a feed with ids only). */
        lastEventId: ZEventIdSchema.nullish(),
      }),
    )
    .min(1, "must name at least one feed")
    .max(32, "must name at most 32 feeds")
    .refine((feeds) => new Set(feeds.map((feed) => feed.key)).size === feeds.length, "must have unique keys"),
  /** Sent by tRPC's client when it reconnects: the id of the last message received. */
  lastEventId: ZPositionsSchema.nullish(),
});

/** One message of a live stream; every message but `ready` names its feed by key. */
export type LiveStreamMessage =
  /** The feed is subscribed; `resumed` when it goes on from its last id, so nothing was lost. */
  | { type: "started"; feed: string; resumed: boolean }
  /** One event of the feed, with the feed's own id when it has ids. */
  | { type: "data"; feed: string; id: string | null; data: unknown }
  /**
   * The feed was refused or failed and has ended; the others go on. The application error code,
   * its tRPC code, the HTTP status it would have on its own, what to tell a person.
   */
  | {
      type: "error";
      feed: string;
      error: { code: string; trpcCode: string; status: number; message: string };
    }
  /** The feed has ended by itself. */
  | { type: "end"; feed: string }
  /** Every feed has started or failed: from here on the stream carries all it can. */
  | { type: "ready" };

/** The time for a feed's first step (where it subscribes to the bus) to run once it is asked for. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export const liveRouter = router({
  /**
   * Several live feeds over one SSE stream, each with its own authorization,
   * payload and resume position; see the file header.
   */
  stream: viewerProcedure.input(ZLiveStreamInputSchema).subscription(async function* ({
    ctx,
    input,
    signal,
  }): AsyncGenerator<TrackedEnvelope<LiveStreamMessage>> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener("abort", onAbort);
    const caller = createFeedCaller(ctx, { signal: stop.signal });
    const positions: Record<string, string> = {};
    for (const feed of input.feeds) if (feed.lastEventId) positions[feed.key] = feed.lastEventId;
    Object.assign(positions, input.lastEventId ?? {});

    // Each message with the positions as of that message, so a client that got it resumes after it.
    const queue: { id: string; message: LiveStreamMessage }[] = [];
    let wake: (() => void) | undefined;
    const push = (message: LiveStreamMessage) => {
      queue.push({ id: JSON.stringify(positions), message });
      wake?.();
      wake = undefined;
    };
    const fail = (feed: string, path: string, error: unknown) => {
      const answer = answerForError(error);
      if (answer.status >= 500) ctx.log.error({ err: error, path }, "live feed failed");
      const refusal = {
        code: answer.code,
        trpcCode: APP_ERROR_CODES[answer.code].trpc,
        status: answer.status,
      };
      push({ type: "error", feed, error: { ...refusal, message: answer.message } });
    };

    let running = input.feeds.length;
    const pump = async (feed: (typeof input.feeds)[number], started: () => void) => {
      const { resumes, call } = FEEDS[feed.path];
      const lastEventId = resumes ? positions[feed.key] : undefined;
      if (!resumes) delete positions[feed.key];
      try {
        const feedInput =
          lastEventId !== undefined && (feed.input === undefined || isPlainObject(feed.input))
            ? { ...feed.input, lastEventId }
            : feed.input;
        const source = await call(caller, feedInput);
        const iterator = source[Symbol.asyncIterator]();
        const first = iterator.next();
        await settle();
        push({ type: "started", feed: feed.key, resumed: lastEventId !== undefined });
        started();
        for (let next = await first; !next.done; next = await iterator.next()) {
          const value: unknown = next.value;
          if (isTrackedEnvelope(value)) {
            positions[feed.key] = String(value[0]);
            push({ type: "data", feed: feed.key, id: String(value[0]), data: value[1] });
          } else {
            push({ type: "data", feed: feed.key, id: null, data: value });
          }
        }
        if (!stop.signal.aborted) push({ type: "end", feed: feed.key });
      } catch (error) {
        started();
        if (!stop.signal.aborted) fail(feed.key, feed.path, error);
      } finally {
        running -= 1;
        wake?.();
        wake = undefined;
      }
    };

    let unstarted = input.feeds.length;
    const onStarted = () => {
      unstarted -= 1;
      if (unstarted === 0) push({ type: "ready" });
    };
    for (const feed of input.feeds) {
      let once = false;
      void pump(feed, () => {
        if (once) return;
        once = true;
        onStarted();
      });
    }

    try {
      while (!stop.signal.aborted) {
        const next = queue.shift();
        if (next) {
          yield tracked(next.id, next.message);
          continue;
        }
        if (running === 0) return;
        // The listener goes with the wait: a stream waits once per message, for hours.
        await new Promise<void>((resolve) => {
          const done = () => {
            stop.signal.removeEventListener("abort", done);
            resolve();
          };
          wake = done;
          stop.signal.addEventListener("abort", done, { once: true });
        });
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      stop.abort();
    }
  }),
});

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
