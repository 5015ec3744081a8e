import { describe, expect, it } from "vitest";
import { createGroupCommitQueue } from "./group-commit.ts";

/** A flush whose batches the test sees arrive and settles by hand. */
function controlledFlush() {
  const calls: { batch: number[]; resolve: (results: string[]) => void; reject: (error: unknown) => void }[] =
    [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const flush = (batch: readonly number[]) =>
    new Promise<readonly string[]>((resolve, reject) => {
      calls.push({ batch: [...batch], resolve, reject });
      for (const waiter of waiters.filter((w) => calls.length >= w.count)) waiter.resolve();
    });
  /** Resolves once `count` flushes have started. */
  const started = (count: number) =>
    calls.length >= count
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ count, resolve }));
  const answer = (index: number) => calls[index]!.resolve(calls[index]!.batch.map((item) => `done ${item}`));
  return { calls, flush, started, answer };
}

describe("group-commit queue", () => {
  it("flushes the items of one turn together, and gathers those that arrive meanwhile into the next batch", async () => {
    const flush = controlledFlush();
    const queue = createGroupCommitQueue({ flush: flush.flush, maxBatch: 100, maxConcurrentBatches: 1 });
    const first = [1, 2, 3].map((item) => queue.enqueue(item));
    await flush.started(1);
    const second = [4, 5].map((item) => queue.enqueue(item));
    const third = queue.enqueue(6);
    // One batch at a time: the later items wait, and nothing else has started.
    await new Promise((resolve) => setImmediate(resolve));
    expect(flush.calls.map((call) => call.batch)).toEqual([[1, 2, 3]]);
    flush.answer(0);
    expect(await Promise.all(first)).toEqual(["done 1", "done 2", "done 3"]);
    await flush.started(2);
    expect(flush.calls[1]!.batch).toEqual([4, 5, 6]);
    flush.answer(1);
    expect(await Promise.all([...second, third])).toEqual(["done 4", "done 5", "done 6"]);
  });

  it("cuts batches at maxBatch and keeps at most maxConcurrentBatches in flight", async () => {
    const flush = controlledFlush();
    const queue = createGroupCommitQueue({ flush: flush.flush, maxBatch: 2, maxConcurrentBatches: 2 });
    const results = [1, 2, 3, 4, 5].map((item) => queue.enqueue(item));
    await flush.started(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(flush.calls.map((call) => call.batch)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    flush.answer(1);
    await flush.started(3);
    expect(flush.calls[2]!.batch).toEqual([5]);
    flush.answer(0);
    flush.answer(2);
    expect(await Promise.all(results)).toEqual(["done 1", "done 2", "done 3", "done 4", "done 5"]);
  });

  it("retries a refused batch one item at a time, so only the item refused alone fails", async () => {
    const refused: [unknown, number][] = [];
    const flushed: number[][] = [];
    const queue = createGroupCommitQueue<number, string>({
      maxBatch: 10,
      maxConcurrentBatches: 2,
      flush: (batch) => {
        flushed.push([...batch]);
        return batch.includes(2)
          ? Promise.reject(new Error("refused 2"))
          : Promise.resolve(batch.map(String));
      },
      onBatchRefused: (error, size) => refused.push([error, size]),
    });
    const results = await Promise.allSettled([1, 2, 3].map((item) => queue.enqueue(item)));
    expect(results).toEqual([
      { status: "fulfilled", value: "1" },
      { status: "rejected", reason: new Error("refused 2") },
      { status: "fulfilled", value: "3" },
    ]);
    expect(flushed).toEqual([[1, 2, 3], [1], [2], [3]]);
    expect(refused).toEqual([[new Error("refused 2"), 3]]);
  });

  it("rejects the items of a flush that answers for a different number of items", async () => {
    const queue = createGroupCommitQueue<number, string>({
      maxBatch: 10,
      maxConcurrentBatches: 1,
      flush: () => Promise.resolve(["only one"]),
    });
    const results = await Promise.allSettled([queue.enqueue(1), queue.enqueue(2)]);
    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(
      /a flush of 2 items returned 1 results/,
    );
  });

  it("drain waits for queued and in-flight batches, and returns at once when idle", async () => {
    const flush = controlledFlush();
    const queue = createGroupCommitQueue({ flush: flush.flush, maxBatch: 1, maxConcurrentBatches: 1 });
    await queue.drain();
    const results = [1, 2].map((item) => queue.enqueue(item));
    let drained = false;
    const draining = queue.drain().then(() => (drained = true));
    await flush.started(1);
    flush.answer(0);
    await flush.started(2);
    expect(drained).toBe(false);
    flush.answer(1);
    await draining;
    expect(await Promise.all(results)).toEqual(["done 1", "done 2"]);
  });

  it.each([
    ["maxBatch", 0],
    ["maxBatch", 1.5],
    ["maxConcurrentBatches", 0],
    ["maxConcurrentBatches", Number.NaN],
  ] as const)("refuses %s = %s", (name, value) => {
    expect(() =>
      createGroupCommitQueue({
        flush: (batch: readonly number[]) => Promise.resolve(batch),
        maxBatch: 10,
        maxConcurrentBatches: 1,
        [name]: value,
      }),
    ).toThrow(new RegExp(`${name} must be a positive integer`));
  });
});
