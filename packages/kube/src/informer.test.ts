// The informer loop with a manual clock and scripted list/watch functions:
// which requests it makes after each kind of failure, and when.

import { describe, expect, it } from "vitest";
import { createBackoff } from "./backoff.ts";
import { ManualClock } from "./clock.ts";
import { createInformer, type InformerEvent, type ListLimit, type ListPage } from "./informer.ts";
import { KubeRequestError } from "./transport.ts";

interface Item {
  resourceVersion: string;
  name: string;
}
const raw = (name: string, rv: string) => ({ metadata: { name, resourceVersion: rv } });
const trim = (o: unknown): Item => {
  const m = (o as { metadata: { name: string; resourceVersion: string } }).metadata;
  return { name: m.name, resourceVersion: m.resourceVersion };
};

/** A watch stream the test writes lines into; ends when told or when its signal aborts. */
function scriptedStream(signal: AbortSignal) {
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const poke = (): void => {
    wake?.();
    wake = undefined;
  };
  signal.addEventListener("abort", () => {
    ended = true;
    poke();
  });
  async function* iterate(): AsyncGenerator<string> {
    for (;;) {
      const line = lines.shift();
      if (line !== undefined) {
        yield line;
        continue;
      }
      if (signal.aborted) throw new DOMException("aborted", "AbortError");
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  return {
    iterable: iterate(),
    send(event: object) {
      lines.push(JSON.stringify(event));
      poke();
    },
    end() {
      ended = true;
      poke();
    },
  };
}

function harness(script: { list: Array<ListPage | Error> }) {
  const clock = new ManualClock(1_000);
  const calls: string[] = [];
  const streams: Array<ReturnType<typeof scriptedStream>> = [];
  const watchFailures: Error[] = [];
  const events: Array<InformerEvent<Item>> = [];
  const informer = createInformer<Item>({
    name: "things in cluster test",
    clock,
    backoff: createBackoff({ initialMs: 1_000, maxMs: 8_000, random: () => 0 }),
    random: () => 0,
    probeAfterMs: 5_000,
    quietAfterMs: 20_000,
    trim,
    list: ({ continue: token }) => {
      calls.push(`list${token ? ` continue=${token}` : ""}@${clock.now()}`);
      const next = script.list.shift();
      if (!next) return Promise.reject(new Error("no more lists scripted"));
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    watch: ({ resourceVersion, signal }) => {
      calls.push(`watch rv=${resourceVersion}@${clock.now()}`);
      const failure = watchFailures.shift();
      if (failure) return Promise.reject(failure);
      const stream = scriptedStream(signal);
      streams.push(stream);
      return Promise.resolve(stream.iterable);
    },
  });
  informer.subscribe((e) => events.push(e));
  return { clock, calls, streams, watchFailures, events, informer };
}

describe("createInformer", () => {
  it("lists page by page, then watches from the list's resourceVersion and applies events and bookmarks", async () => {
    const h = harness({
      list: [
        { items: [raw("a", "1")], resourceVersion: "10", continue: "next" },
        { items: [raw("b", "2")], resourceVersion: "10" },
      ],
    });
    await h.clock.advance(0);
    expect(h.calls).toEqual(["list@1000", "list continue=next@1000", "watch rv=10@1000"]);
    expect([...h.informer.store.keys()]).toEqual(["a", "b"]);
    h.streams[0]!.send({ type: "MODIFIED", object: raw("a", "11") });
    h.streams[0]!.send({ type: "BOOKMARK", object: { metadata: { resourceVersion: "12" } } });
    h.streams[0]!.send({ type: "DELETED", object: raw("b", "13") });
    await h.clock.advance(0);
    expect([...h.informer.store.values()]).toEqual([{ name: "a", resourceVersion: "11" }]);
    // A cleanly ended watch resumes from the last version seen, at once.
    h.streams[0]!.end();
    await h.clock.advance(0);
    expect(h.calls.at(-1)).toBe("watch rv=13@1000");
    await h.informer.stop();
  });

  it("reads each whole list through its list limit: informers sharing one slot list one after the other", async () => {
    const clock = new ManualClock(1_000);
    const calls: string[] = [];
    let queue: Promise<unknown> = Promise.resolve();
    const oneAtATime: ListLimit = (list) => {
      const run = queue.then(list);
      queue = run.catch(() => undefined);
      return run;
    };
    let finishFirst: (page: ListPage) => void = () => undefined;
    const informer = (name: string, pages: (token: string | undefined) => Promise<ListPage>) =>
      createInformer<Item>({
        name,
        clock,
        trim,
        listLimit: oneAtATime,
        list: ({ continue: token }) => {
          calls.push(`${name} list${token ? ` continue=${token}` : ""}`);
          return pages(token);
        },
        watch: ({ signal }) => Promise.resolve(scriptedStream(signal).iterable),
      });
    const first = informer("first", (token) =>
      token
        ? new Promise<ListPage>((resolve) => (finishFirst = resolve))
        : Promise.resolve({ items: [raw("a", "1")], resourceVersion: "10", continue: "next" }),
    );
    const second = informer("second", () =>
      Promise.resolve({ items: [raw("z", "5")], resourceVersion: "20" }),
    );
    await clock.advance(0);
    // The second waits while the first is between its pages.
    expect(calls).toEqual(["first list", "first list continue=next"]);
    expect(second.synced).toBe(false);
    finishFirst({ items: [raw("b", "2")], resourceVersion: "10" });
    await Promise.all([first.whenSynced(), second.whenSynced()]);
    expect(calls).toEqual(["first list", "first list continue=next", "second list"]);
    expect([...first.store.keys()]).toEqual(["a", "b"]);
    expect([...second.store.keys()]).toEqual(["z"]);
    await Promise.all([first.stop(), second.stop()]);
  });

  it("relists at once on 410 Expired and emits only the difference", async () => {
    const h = harness({
      list: [
        { items: [raw("a", "1"), raw("b", "1")], resourceVersion: "10" },
        { items: [raw("a", "1"), raw("c", "20")], resourceVersion: "20" },
      ],
    });
    await h.clock.advance(0);
    h.events.length = 0;
    h.streams[0]!.send({
      type: "ERROR",
      object: { kind: "Status", code: 410, reason: "Expired", message: "too old" },
    });
    await h.clock.advance(0);
    expect(h.calls).toEqual(["list@1000", "watch rv=10@1000", "list@1000", "watch rv=20@1000"]);
    expect(h.events.map((e) => e.type)).toEqual(["error", "deleted", "added", "synced", "connected"]);
    expect(h.events[0]).toMatchObject({ reason: "expired", retryInMs: 0 });
    await h.informer.stop();
  });

  it("backs off after failures, honours Retry-After, and keeps its resourceVersion", async () => {
    const h = harness({ list: [{ items: [], resourceVersion: "10" }] });
    h.watchFailures.push(
      new KubeRequestError("GET watch: 500", { status: 500 }),
      new KubeRequestError("GET watch: 429", { status: 429, retryAfterMs: 6_000 }),
    );
    await h.clock.advance(0);
    expect(h.calls).toEqual(["list@1000", "watch rv=10@1000"]);
    await h.clock.advance(499);
    expect(h.calls).toHaveLength(2);
    await h.clock.advance(1);
    expect(h.calls.at(-1)).toBe("watch rv=10@1500");
    // The 429 asked for 6 s, more than the 1 s backoff.
    await h.clock.advance(5_999);
    expect(h.calls).toHaveLength(3);
    await h.clock.advance(1);
    expect(h.calls.at(-1)).toBe("watch rv=10@7500");
    expect(h.events.filter((e) => e.type === "error").map((e) => "retryInMs" in e && e.retryInMs)).toEqual([
      500, 6_000,
    ]);
    await h.informer.stop();
  });

  it("restarts a watch that stays silent, without listing again", async () => {
    const h = harness({ list: [{ items: [], resourceVersion: "10" }] });
    await h.clock.advance(0);
    h.streams[0]!.send({ type: "BOOKMARK", object: { metadata: { resourceVersion: "15" } } });
    await h.clock.advance(19_999);
    expect(h.calls).toEqual(["list@1000", "watch rv=10@1000"]);
    await h.clock.advance(1);
    const error = h.events.find((e) => e.type === "error");
    expect(error).toMatchObject({ reason: "quiet" });
    await h.clock.advance(1_000);
    expect(h.calls).toEqual(["list@1000", "watch rv=10@1000", "watch rv=15@21500"]);
    await h.informer.stop();
  });
});
