// A group-commit queue: callers hand in items one at a time, and the items
// that arrive while earlier batches are being flushed wait and go together
// into the next one. What a flush does (and what an item is) is the caller's
// business; the queue only batches, bounds and retries.
//
// A batch closes at the end of the event-loop turn in which its first item
// arrived (so the items of one turn share a batch) or at `maxBatch` items,
// and waits while `maxConcurrentBatches` batches are already being flushed.
// DataLoader-style batching starts every batch at once, and p-queue or fastq
// bound concurrency without batching; neither waits to gather the next batch
// behind the ones in flight, which is what makes a group commit pay off.

export interface GroupCommitQueue<Item, Result> {
  /** Resolves with the item's result once the batch holding it is flushed; rejects if the item alone is refused. */
  enqueue(item: Item): Promise<Result>;
  /** Waits until nothing is queued and no batch is being flushed. */
  drain(): Promise<void>;
}

export interface CreateGroupCommitQueueOptions<Item, Result> {
  /**
   * Writes a batch as one unit and returns one result per item, in order. A
   * throw must mean that nothing of the batch took effect: the queue then
   * flushes each item of it on its own, so one bad item fails alone.
   */
  flush: (batch: readonly Item[]) => Promise<readonly Result[]>;
  /** Most items in one batch. */
  maxBatch: number;
  /** Most batches being flushed at the same time. */
  maxConcurrentBatches: number;
  /** Told when a batch of several items was refused, before its items are retried one at a time. */
  onBatchRefused?: (error: unknown, batchSize: number) => void;
}

interface Waiting<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

export function createGroupCommitQueue<Item, Result>(
  options: CreateGroupCommitQueueOptions<Item, Result>,
): GroupCommitQueue<Item, Result> {
  for (const name of ["maxBatch", "maxConcurrentBatches"] as const) {
    if (!Number.isSafeInteger(options[name]) || options[name] < 1)
      throw new Error(`createGroupCommitQueue: ${name} must be a positive integer, got ${options[name]}`);
  }
  const { maxBatch, maxConcurrentBatches } = options;
  let queue: Waiting<Item, Result>[] = [];
  let active = 0;
  let scheduled = false;
  let idle: { promise: Promise<void>; resolve: () => void } | undefined;

  const run = async (batch: Waiting<Item, Result>[]): Promise<void> => {
    let results: readonly Result[];
    try {
      results = await options.flush(batch.map((waiting) => waiting.item));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // Nothing of the batch took effect, so flush each item on its own.
      options.onBatchRefused?.(error, batch.length);
      await Promise.all(batch.map((waiting) => run([waiting])));
      return;
    }
    if (results.length !== batch.length) {
      const error = new Error(
        `group commit: a flush of ${batch.length} items returned ${results.length} results`,
      );
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, i) => waiting.resolve(results[i]!));
  };

  const pump = () => {
    while (active < maxConcurrentBatches && queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      active += 1;
      void run(batch).finally(() => {
        active -= 1;
        pump();
      });
    }
    if (active === 0 && queue.length === 0 && idle) {
      idle.resolve();
      idle = undefined;
    }
  };

  return {
    enqueue(item) {
      return new Promise<Result>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        // setImmediate lets the items of this turn of the event loop join the batch.
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            pump();
          });
        }
      });
    },
    async drain() {
      if (active > 0 || queue.length > 0) {
        if (!idle) {
          let resolve!: () => void;
          const promise = new Promise<void>((r) => (resolve = r));
          idle = { promise, resolve };
        }
        await idle.promise;
      }
    },
  };
}
