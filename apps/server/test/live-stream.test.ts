// live.stream over real HTTP: several live feeds on one SSE stream, each
// with its own authorization (refused alone, ended alone when a re-check
// refuses it later) and its own resume position after a reconnect.
import { INVENTORY_TOPIC, publishTopic, recordAuditEvent } from "@tapfleet/core";
import { createLiveBus, type LiveBus } from "@tapfleet/db";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, startTestServer, type TestServer } from "./harness.ts";

const RECHECK_MS = 300;
let t: TestServer;
/** The bus of another replica: what it publishes reaches this server's streams through PostgreSQL. */
let bus: LiveBus;
let adminCookie: string;

beforeAll(async () => {
  t = await startTestServer({ TAPFLEET_LIVE_RECHECK_MS: String(RECHECK_MS) });
  bus = await createLiveBus({ url: t.database.url });
  adminCookie = await t.login("admin", ADMIN_PASSWORD);
});
afterAll(async () => {
  await bus?.close();
  await t?.stop();
});

type Message =
  | { type: "started"; feed: string; resumed: boolean }
  | { type: "data"; feed: string; id: string | null; data: unknown }
  | {
      type: "error";
      feed: string;
      error: { code: string; trpcCode: string; status: number; message: string };
    }
  | { type: "end"; feed: string }
  | { type: "ready" };

interface Stream {
  messages: Message[];
  /** The SSE id of the last message: what EventSource sends back when it reconnects. */
  lastEventId: string | undefined;
  /** Resolves once `until` accepts the messages so far; rejects after `timeoutMs` or when the stream ends. */
  waitFor(until: (messages: Message[]) => boolean, timeoutMs?: number): Promise<Message[]>;
  /** Whether the server has ended the stream. */
  ended: boolean;
  /** Everything received, tRPC's own frames included. */
  text: string;
  close(): void;
}

async function openStream(input: unknown, headers: Record<string, string>): Promise<Stream> {
  const controller = new AbortController();
  const response = await fetch(
    `${t.url}/trpc/live.stream?input=${encodeURIComponent(JSON.stringify(input))}`,
    {
      headers: { ...headers, accept: "text/event-stream" },
      signal: controller.signal,
    },
  );
  if (response.status !== 200)
    throw new Error(`live.stream answered ${response.status}: ${await response.text()}`);
  const stream: Stream = {
    messages: [],
    lastEventId: undefined,
    ended: false,
    text: "",
    close: () => controller.abort(),
    waitFor: (until, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(
          () => reject(new Error(`no match within ${timeoutMs} ms: ${JSON.stringify(stream.messages)}`)),
          timeoutMs,
        );
        const check = () => {
          if (until(stream.messages)) {
            clearTimeout(deadline);
            resolve([...stream.messages]);
          } else if (stream.ended) {
            clearTimeout(deadline);
            reject(new Error(`the stream ended: ${JSON.stringify(stream.messages)}`));
          } else waiters.push(check);
        };
        check();
      }),
  };
  const waiters: (() => void)[] = [];
  const notify = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  void (async () => {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const chunk = decoder.decode(value, { stream: true });
        stream.text += chunk;
        buffer += chunk;
        const frames = buffer.split("\n\n");
        buffer = frames.pop()!;
        for (const frame of frames) {
          const lines = frame.split("\n");
          if (lines.some((line) => line.startsWith("event:"))) continue;
          const data = lines
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trimStart());
          if (data.length === 0) continue;
          const id = lines.find((line) => line.startsWith("id:"));
          if (id) stream.lastEventId = id.slice(3).trimStart();
          stream.messages.push(JSON.parse(data.join("\n")) as Message);
        }
        notify();
      }
    } catch {
      // Closed by the test.
    }
    stream.ended = true;
    notify();
  })();
  return stream;
}

const of = (messages: Message[], feed: string) => messages.filter((m) => "feed" in m && m.feed === feed);
const dataOf = (messages: Message[], feed: string) =>
  of(messages, feed).filter((m): m is Extract<Message, { type: "data" }> => m.type === "data");

async function announceResync(): Promise<string> {
  const clusterId = randomUUID();
  await publishTopic(bus, INVENTORY_TOPIC, { type: "resync", clusterId });
  return clusterId;
}

async function recordEvent(action: string): Promise<string> {
  const event = await recordAuditEvent({
    db: t.db,
    bus,
    actor: { type: "system", name: "tapfleet" },
    action,
    outcome: "success",
  });
  return event.id;
}

describe("live.stream", () => {
  it("refuses a viewer the admin-only feed and bad input by feed, and carries the feeds it may have", async () => {
    const viewer = await t.userWithToken("viewer", "mux-viewer");
    const stream = await openStream(
      {
        feeds: [
          { key: "audit", path: "audit.live" },
          { key: "inventory", path: "inventory.live" },
          { key: "rates", path: "stats.live", input: { sensorId: "not-a-uuid" } },
        ],
      },
      { authorization: `Bearer ${viewer.token}` },
    );
    await stream.waitFor((messages) => messages.some((m) => m.type === "ready"));
    expect(of(stream.messages, "audit")).toEqual([
      {
        type: "error",
        feed: "audit",
        error: {
          code: "FORBIDDEN",
          trpcCode: "FORBIDDEN",
          status: 403,
          message: "This needs the admin role; you have viewer.",
        },
      },
    ]);
    const [rates] = of(stream.messages, "rates");
    expect(rates).toMatchObject({ type: "error", error: { code: "INVALID_INPUT", status: 400 } });
    expect((rates as Extract<Message, { type: "error" }>).error.message).toContain("sensorId");
    expect(of(stream.messages, "inventory")).toEqual([
      { type: "started", feed: "inventory", resumed: false },
    ]);

    const clusterId = await announceResync();
    await stream.waitFor((messages) =>
      dataOf(messages, "inventory").some((m) => (m.data as { clusterId?: string }).clusterId === clusterId),
    );
    expect(stream.ended).toBe(false);
    stream.close();
  });

  it("ends only the feed a later re-check refuses; the stream and its other feeds go on", async () => {
    const owner = await t.userWithToken("admin", "mux-demoted");
    const stream = await openStream(
      {
        feeds: [
          { key: "audit", path: "audit.live" },
          { key: "inventory", path: "inventory.live" },
        ],
      },
      { authorization: `Bearer ${owner.token}` },
    );
    await stream.waitFor((messages) => messages.some((m) => m.type === "ready"));
    expect(of(stream.messages, "audit")).toEqual([{ type: "started", feed: "audit", resumed: false }]);

    const demotedAt = Date.now();
    const demote = await fetch(`${t.url}/api/v1/users/${owner.userId}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", cookie: adminCookie },
      body: JSON.stringify({ role: "viewer" }),
    });
    expect(demote.status).toBe(200);
    await stream.waitFor(
      (messages) => of(messages, "audit").some((m) => m.type === "error"),
      RECHECK_MS * 2 + 2000,
    );
    expect(Date.now() - demotedAt).toBeLessThan(RECHECK_MS * 2 + 1000);
    // The demotion was audited while the feed was still allowed; what follows is only the refusal.
    expect(of(stream.messages, "audit").filter((m) => m.type !== "data")).toEqual([
      { type: "started", feed: "audit", resumed: false },
      {
        type: "error",
        feed: "audit",
        error: {
          code: "FORBIDDEN",
          trpcCode: "FORBIDDEN",
          status: 403,
          message: "This needs the admin role; you have viewer.",
        },
      },
    ]);

    // Several re-checks later the stream is open and its viewer feed still delivers.
    await new Promise((resolve) => setTimeout(resolve, RECHECK_MS * 3));
    const clusterId = await announceResync();
    await stream.waitFor((messages) =>
      dataOf(messages, "inventory").some((m) => (m.data as { clusterId?: string }).clusterId === clusterId),
    );
    expect(stream.ended).toBe(false);
    stream.close();
  });

  it("resumes each feed from its last id after a reconnect, without loss or duplicates", async () => {
    const latest = await t.db.auditEvent.findFirst({ orderBy: { id: "desc" } });
    const input = {
      feeds: [
        { key: "audit", path: "audit.live", lastEventId: (latest?.id ?? 0n).toString() },
        { key: "inventory", path: "inventory.live" },
      ],
    };
    const headers = { cookie: adminCookie };
    const first = await openStream(input, headers);
    await first.waitFor((messages) => messages.some((m) => m.type === "ready"));
    expect(of(first.messages, "audit")[0]).toEqual({ type: "started", feed: "audit", resumed: true });
    const before = [await recordEvent("test.mux-1"), await recordEvent("test.mux-2")];
    await first.waitFor((messages) => dataOf(messages, "audit").length === 2);
    expect(dataOf(first.messages, "audit").map((m) => m.id)).toEqual(before);
    const lastEventId = first.lastEventId;
    expect(JSON.parse(lastEventId!)).toEqual({ audit: before[1] });
    first.close();

    // Recorded while no stream is open.
    const missed = [await recordEvent("test.mux-3"), await recordEvent("test.mux-4")];

    // What tRPC's client sends when it reconnects: the first input, with the last message's id.
    const second = await openStream({ ...input, lastEventId }, headers);
    await second.waitFor((messages) => dataOf(messages, "audit").length === 2);
    const after = await recordEvent("test.mux-5");
    await second.waitFor((messages) => dataOf(messages, "audit").length === 3);
    expect(of(second.messages, "audit")[0]).toEqual({ type: "started", feed: "audit", resumed: true });
    expect(of(second.messages, "inventory")[0]).toEqual({
      type: "started",
      feed: "inventory",
      resumed: false,
    });
    expect(dataOf(second.messages, "audit").map((m) => m.id)).toEqual([...missed, after]);
    expect(dataOf(second.messages, "audit").map((m) => (m.data as { action: string }).action)).toEqual([
      "test.mux-3",
      "test.mux-4",
      "test.mux-5",
    ]);
    second.close();
  });

  it("keeps no listener per message: a stream that waits for twenty messages, one at a time, leaks none", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === "MaxListenersExceededWarning") warnings.push(warning);
    };
    process.on("warning", onWarning);
    try {
      const latest = await t.db.auditEvent.findFirst({ orderBy: { id: "desc" } });
      const stream = await openStream(
        { feeds: [{ key: "audit", path: "audit.live", lastEventId: (latest?.id ?? 0n).toString() }] },
        { cookie: adminCookie },
      );
      await stream.waitFor((messages) => messages.some((m) => m.type === "ready"));
      // Each message reaches a stream that is waiting for the next: a wait per message.
      for (let i = 1; i <= 20; i++) {
        await recordEvent(`test.one-at-a-time-${i}`);
        await stream.waitFor((messages) => dataOf(messages, "audit").length === i);
      }
      stream.close();
      // A warning is emitted on the next tick after the listener that exceeded the limit.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.message)).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("answers a stream without credentials with 401 and a malformed resume id naming the field", async () => {
    const anonymous = await fetch(
      `${t.url}/trpc/live.stream?input=${encodeURIComponent(JSON.stringify({ feeds: [{ key: "i", path: "inventory.live" }] }))}`,
      { headers: { accept: "text/event-stream" } },
    );
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();

    const bad = await openStream(
      { feeds: [{ key: "i", path: "inventory.live" }], lastEventId: "not json" },
      { cookie: adminCookie },
    );
    await bad.waitFor(() => bad.ended);
    expect(bad.messages).toEqual([]);
    const refusal = JSON.parse(/event: serialized-error\ndata: (.*)\n/.exec(bad.text)![1]!) as {
      data: { appCode: string; zodError: { fieldErrors: Record<string, string[]> } };
    };
    expect(refusal.data.appCode).toBe("INVALID_INPUT");
    expect(refusal.data.zodError.fieldErrors).toEqual({
      lastEventId: ["must be an event id of this stream"],
    });
  });
});
