// The hub's bookkeeping between streams, against a stand-in for tRPC's client that records the
// streams it is asked to open and lets the test play what the server sends. The real client and
// server together are covered by e2e/live/one-stream.spec.ts.
import type { LiveStreamMessage } from "@tapfleet/api";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveHub, type LiveFeedState } from "./live-hub";

interface OpenedStream {
  input: { feeds: { key: string; path: string; input?: unknown; lastEventId?: string | null }[] };
  closed: boolean;
  send(message: LiveStreamMessage): void;
}

function streamClient() {
  const opened: OpenedStream[] = [];
  const client = {
    live: {
      stream: {
        subscribe(
          input: OpenedStream["input"],
          handlers: { onData(value: { data: LiveStreamMessage }): void },
        ) {
          const stream: OpenedStream = {
            input,
            closed: false,
            send: (message) => {
              if (!stream.closed) handlers.onData({ data: message });
            },
          };
          opened.push(stream);
          return {
            unsubscribe: () => {
              stream.closed = true;
            },
          };
        },
      },
    },
  };
  return { opened, hub: new LiveHub(client as unknown as ConstructorParameters<typeof LiveHub>[0]) };
}

function recorder() {
  const events: unknown[] = [];
  const starts: { resumed: boolean }[] = [];
  const states: LiveFeedState[] = [];
  return {
    events,
    starts,
    states,
    listener: {
      onData: (event: unknown) => events.push(event),
      onStarted: (info: { resumed: boolean }) => starts.push(info),
      onState: (state: LiveFeedState) => states.push(state),
    },
  };
}

/** Lets the hub gather the registrations of one render into one change. */
const settle = () => vi.advanceTimersByTime(100);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("LiveHub", () => {
  it("carries the feeds registered together on one stream, a feed registered twice once", () => {
    const { hub, opened } = streamClient();
    const first = recorder();
    const second = recorder();
    hub.register("inventory.live", { clusterId: "c1" }, first.listener);
    hub.register("inventory.live", { clusterId: "c1" }, second.listener);
    hub.register("stats.live", { sensorId: "00000000-0000-4000-8000-000000000001" }, recorder().listener);
    settle();
    expect(opened).toHaveLength(1);
    expect(opened[0]!.input.feeds.map((feed) => feed.path)).toEqual(["inventory.live", "stats.live"]);

    const key = opened[0]!.input.feeds[0]!.key;
    opened[0]!.send({ type: "started", feed: key, resumed: false });
    opened[0]!.send({ type: "data", feed: key, id: null, data: { type: "resync", clusterId: "c1" } });
    expect(first.events).toEqual([{ type: "resync", clusterId: "c1" }]);
    expect(second.events).toEqual(first.events);
    expect(first.starts).toEqual([{ resumed: false }]);
  });

  it("opens the next stream before closing the previous one, and delivers each event once across both", () => {
    const { hub, opened } = streamClient();
    const audit = recorder();
    hub.register("audit.live", undefined, audit.listener);
    settle();
    const [one] = opened;
    const auditKey = one!.input.feeds[0]!.key;
    one!.send({ type: "started", feed: auditKey, resumed: false });
    one!.send({ type: "ready" });
    one!.send({ type: "data", feed: auditKey, id: "1", data: { action: "a" } });
    one!.send({ type: "data", feed: auditKey, id: "2", data: { action: "b" } });

    // Another page part arrives: the next stream carries both, the audit feed from its last id.
    hub.register("sensors.live", undefined, recorder().listener);
    settle();
    const two = opened[1]!;
    expect(two.input.feeds.find((feed) => feed.key === auditKey)?.lastEventId).toBe("2");
    expect(one!.closed).toBe(false);

    // Until the next stream has started the feed, the previous one delivers.
    one!.send({ type: "data", feed: auditKey, id: "3", data: { action: "c" } });
    two.send({ type: "started", feed: auditKey, resumed: true });
    one!.send({ type: "data", feed: auditKey, id: "4", data: { action: "d" } }); // the next one brings it
    two.send({ type: "data", feed: auditKey, id: "3", data: { action: "c" } }); // already delivered
    two.send({ type: "data", feed: auditKey, id: "4", data: { action: "d" } });
    two.send({ type: "started", feed: two.input.feeds[1]!.key, resumed: false });
    two.send({ type: "ready" });
    expect(one!.closed).toBe(true);

    expect(audit.events).toEqual([
      { id: "1", data: { action: "a" } },
      { id: "2", data: { action: "b" } },
      { id: "3", data: { action: "c" } },
      { id: "4", data: { action: "d" } },
    ]);
    // Taking over loses nothing, so the page is not told to read again.
    expect(audit.starts).toEqual([{ resumed: false }]);
  });

  it("tells a feed's listeners of each restart after a reconnect, with whether it resumed", () => {
    const { hub, opened } = streamClient();
    const inventory = recorder();
    const audit = recorder();
    hub.register("inventory.live", undefined, inventory.listener);
    hub.register("audit.live", undefined, audit.listener);
    settle();
    const [stream] = opened;
    const [inventoryKey, auditKey] = stream!.input.feeds.map((feed) => feed.key);
    stream!.send({ type: "started", feed: inventoryKey!, resumed: false });
    stream!.send({ type: "started", feed: auditKey!, resumed: false });
    // The connection dropped and came back on the same stream.
    stream!.send({ type: "started", feed: inventoryKey!, resumed: false });
    stream!.send({ type: "started", feed: auditKey!, resumed: true });
    expect(inventory.starts).toEqual([{ resumed: false }, { resumed: false }]);
    expect(audit.starts).toEqual([{ resumed: false }, { resumed: true }]);
  });

  it("ends a refused feed alone, with the refusal, and does not carry it again", () => {
    const { hub, opened } = streamClient();
    const audit = recorder();
    const inventory = recorder();
    hub.register("audit.live", undefined, audit.listener);
    hub.register("inventory.live", undefined, inventory.listener);
    settle();
    const [stream] = opened;
    const [auditKey, inventoryKey] = stream!.input.feeds.map((feed) => feed.key);
    stream!.send({
      type: "error",
      feed: auditKey!,
      error: { code: "FORBIDDEN", trpcCode: "FORBIDDEN", status: 403, message: "This needs the admin role." },
    });
    stream!.send({ type: "started", feed: inventoryKey!, resumed: false });
    stream!.send({ type: "ready" });

    const refused = audit.states.at(-1)!;
    expect(refused.status).toBe("error");
    expect((refused.error as Error).message).toBe("This needs the admin role.");
    expect((refused.error as { data: unknown }).data).toMatchObject({ code: "FORBIDDEN", httpStatus: 403 });
    expect(inventory.states.at(-1)).toEqual({ status: "pending", error: null });

    // A change of the set does not bring the refused feed back.
    hub.register("sensors.live", undefined, recorder().listener);
    settle();
    expect(opened[1]!.input.feeds.map((feed) => feed.path)).toEqual(["inventory.live", "sensors.live"]);
  });

  it("closes the stream once no feed is registered", () => {
    const { hub, opened } = streamClient();
    const unregister = hub.register("inventory.live", undefined, recorder().listener);
    settle();
    unregister();
    settle();
    expect(opened).toHaveLength(1);
    expect(opened[0]!.closed).toBe(true);
  });
});
