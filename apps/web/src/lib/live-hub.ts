// The tab's one live stream. Components register the feeds they need (a feed is a live
// subscription procedure and its input, e.g. `inventory.live` for one cluster) and the hub
// carries all of them over one `live.stream` SSE connection, so a tab holds one of the
// browser's six connections per host however many live pages and widgets it shows.
//
// - Registrations with the same path and input share one feed.
// - When the set of feeds changes, the hub opens a stream with the new set and closes the old
//   one only once the new one has started every feed ("ready"): no gap. Until a feed has
//   started on the new stream its events come from the old one, after that only from the new
//   one; a feed with ids (audit.live) is opened again from its last id and anything both
//   streams sent is delivered once (its ids are remembered).
// - After a network drop tRPC's client reconnects with the last message's id, which holds
//   every feed's position: feeds with ids resume, the others say `resumed: false` so their
//   pages read again what they show.
// - A feed refused (a role) or failed ends alone with its error; the others go on.
//
// The pod log follow (kube.podLog) is a stream of its own, see packages/api's live router.
import type { LiveFeedPath, LiveStreamMessage } from "@tapfleet/api";
import { TRPCClientError, type TRPCClient } from "@trpc/client";
import type { AnyTRPCProcedure, inferProcedureInput, inferProcedureOutput } from "@trpc/server";
import type { AppRouter } from "./trpc";

/** The live feeds a tab's stream can carry: the server's list (packages/api, routers/live.ts). */
export type { LiveFeedPath };

/** The subscription procedure at a feed's path (`inventory.live` → appRouter.inventory.live). */
type FeedProcedure<P extends LiveFeedPath> = P extends `${infer Area}.${infer Name}`
  ? Area extends keyof AppRouter
    ? Name extends keyof AppRouter[Area]
      ? AppRouter[Area][Name] extends AnyTRPCProcedure
        ? AppRouter[Area][Name]
        : never
      : never
    : never
  : never;

/** A feed's input: the subscription procedure's own (without `lastEventId`, which the hub sets). */
export type LiveFeedInput<P extends LiveFeedPath> = inferProcedureInput<FeedProcedure<P>>;
/** One event of a feed, as the procedure yields it (`{ id, data }` for a feed with ids). */
export type LiveFeedEvent<P extends LiveFeedPath> =
  inferProcedureOutput<FeedProcedure<P>> extends AsyncIterable<infer Event> ? Event : never;

/** A feed's connection, in the terms of tRPC's `useSubscription` (for `LiveBadge`). */
export interface LiveFeedState {
  /** "connecting", "pending" (connected and receiving), "error" (refused or failed; ended). */
  status: "idle" | "connecting" | "pending" | "error";
  error: unknown;
}

export interface LiveFeedListener<P extends LiveFeedPath> {
  onData(event: LiveFeedEvent<P>): void;
  /**
   * The feed started: the first time, and again after each reconnect. `resumed` when it went on
   * from its last id (nothing lost); otherwise events may have been missed while it was down.
   */
  onStarted?(info: { resumed: boolean }): void;
  onState?(state: LiveFeedState): void;
}

type StreamClient = Pick<TRPCClient<AppRouter>, "live">;
type StreamInput = inferProcedureInput<AppRouter["live"]["stream"]>;

/** How many ids of a feed are remembered to deliver each event once across two streams. */
const REMEMBERED_IDS = 512;
/** Registrations of one render (a page leaving, the next arriving) are gathered into one change. */
const GATHER_MS = 30;

interface Feed {
  key: string;
  identity: string;
  path: LiveFeedPath;
  input: unknown;
  listeners: Set<LiveFeedListener<LiveFeedPath>>;
  lastEventId: string | undefined;
  seen: Set<string>;
  /** The stream whose events are delivered; null until one has started the feed. */
  source: Stream | null;
  state: LiveFeedState;
  /** Refused, failed or ended on the server: not carried again while it is registered. */
  closed: boolean;
}

interface Stream {
  keys: Set<string>;
  /** Feeds this stream has started at least once; a second start is a reconnect. */
  started: Set<string>;
  unsubscribe(): void;
}

export class LiveHub {
  readonly #client: StreamClient;
  readonly #feeds = new Map<string, Feed>();
  #nextKey = 1;
  #current: Stream | null = null;
  #opening: Stream | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(client: StreamClient) {
    this.#client = client;
  }

  /** Adds a listener to the feed `path` with `input`; returns the function that removes it. */
  register<P extends LiveFeedPath>(
    path: P,
    input: LiveFeedInput<P>,
    listener: LiveFeedListener<P>,
  ): () => void {
    const identity = `${path} ${JSON.stringify(input ?? null)}`;
    let feed = this.#feeds.get(identity);
    if (!feed) {
      feed = {
        key: `f${this.#nextKey++}`,
        identity,
        path,
        input,
        listeners: new Set(),
        lastEventId: undefined,
        seen: new Set(),
        source: null,
        state: { status: "connecting", error: null },
        closed: false,
      };
      this.#feeds.set(identity, feed);
    }
    const registered = listener as unknown as LiveFeedListener<LiveFeedPath>;
    feed.listeners.add(registered);
    listener.onState?.(feed.state);
    this.#schedule();
    const owner = feed;
    return () => {
      owner.listeners.delete(registered);
      if (owner.listeners.size === 0 && this.#feeds.get(owner.identity) === owner) {
        this.#feeds.delete(owner.identity);
        this.#schedule();
      }
    };
  }

  #schedule() {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sync();
    }, GATHER_MS);
  }

  /** Opens a stream with the feeds wanted now, unless the one open (or opening) carries exactly those. */
  #sync() {
    const wanted = [...this.#feeds.values()].filter((feed) => !feed.closed);
    // Exactly: every wanted feed, and none that is no longer registered (a closed one has ended there).
    const carries = (stream: Stream | null) =>
      stream !== null &&
      wanted.length > 0 &&
      wanted.every((feed) => stream.keys.has(feed.key)) &&
      [...stream.keys].every((key) => this.#byKey(key) !== undefined);
    if (carries(this.#opening ?? this.#current)) return;
    this.#opening?.unsubscribe();
    this.#opening = null;
    if (wanted.length === 0) {
      this.#current?.unsubscribe();
      this.#current = null;
      return;
    }
    this.#opening = this.#open(wanted);
  }

  #byKey(key: string): Feed | undefined {
    for (const feed of this.#feeds.values()) if (feed.key === key) return feed;
    return undefined;
  }

  #open(feeds: Feed[]): Stream {
    const input: StreamInput = {
      feeds: feeds.map((feed) => ({
        key: feed.key,
        path: feed.path,
        input: feed.input,
        lastEventId: feed.lastEventId ?? null,
      })),
    };
    const stream: Stream = {
      keys: new Set(feeds.map((feed) => feed.key)),
      started: new Set(),
      unsubscribe: () => {},
    };
    const subscription = this.#client.live.stream.subscribe(input, {
      onData: ({ data: message }) => this.#receive(stream, message as LiveStreamMessage),
      onConnectionStateChange: (state) => {
        if (state.state === "connecting" && state.error)
          this.#setStreamState(stream, "connecting", state.error);
      },
      onError: (error) => this.#setStreamState(stream, "error", error),
    });
    stream.unsubscribe = () => subscription.unsubscribe();
    return stream;
  }

  /** A stream-wide state (a reconnect under way, the stream refused) for the feeds it delivers. */
  #setStreamState(stream: Stream, status: LiveFeedState["status"], error: unknown) {
    for (const feed of this.#feeds.values()) {
      if (feed.closed || (feed.source !== stream && !(feed.source === null && stream.keys.has(feed.key))))
        continue;
      this.#setState(feed, { status, error });
    }
  }

  #setState(feed: Feed, state: LiveFeedState) {
    feed.state = state;
    for (const listener of feed.listeners) listener.onState?.(state);
  }

  #receive(stream: Stream, message: LiveStreamMessage) {
    if (message.type === "ready") {
      if (stream === this.#opening) {
        this.#current?.unsubscribe();
        this.#current = stream;
        this.#opening = null;
      }
      return;
    }
    const feed = this.#byKey(message.feed);
    if (!feed) return;
    switch (message.type) {
      case "started": {
        const restart = stream.started.has(feed.key);
        stream.started.add(feed.key);
        const first = feed.source === null;
        feed.source = stream;
        this.#setState(feed, { status: "pending", error: null });
        // Taking over from the previous stream loses nothing: that one delivered until now.
        if (first || restart)
          for (const listener of feed.listeners) listener.onStarted?.({ resumed: message.resumed });
        return;
      }
      case "data": {
        if (feed.source !== stream) return;
        if (message.id !== null) {
          if (feed.seen.has(message.id)) return;
          feed.seen.add(message.id);
          if (feed.seen.size > REMEMBERED_IDS) feed.seen.delete(feed.seen.values().next().value!);
          feed.lastEventId = message.id;
        }
        const event = (
          message.id === null ? message.data : { id: message.id, data: message.data }
        ) as LiveFeedEvent<typeof feed.path>;
        for (const listener of feed.listeners) listener.onData(event);
        return;
      }
      case "error":
      case "end": {
        if (feed.source !== stream && stream !== (this.#opening ?? this.#current)) return;
        feed.closed = true;
        const error =
          message.type === "error"
            ? TRPCClientError.from({
                error: {
                  message: message.error.message,
                  code: -32000,
                  data: {
                    code: message.error.trpcCode,
                    httpStatus: message.error.status,
                    appCode: message.error.code,
                  },
                },
              })
            : null;
        this.#setState(feed, { status: message.type === "error" ? "error" : "idle", error });
        return;
      }
    }
  }
}

const hubs = new WeakMap<object, LiveHub>();

/** The tab's hub for this tRPC client (one client per tab, see providers.tsx). */
export function liveHubFor(client: StreamClient): LiveHub {
  let hub = hubs.get(client);
  if (!hub) {
    hub = new LiveHub(client);
    hubs.set(client, hub);
  }
  return hub;
}
