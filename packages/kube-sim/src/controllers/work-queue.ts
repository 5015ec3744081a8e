// A per-key serial work queue in the manner of client-go's workqueue: a key is
// queued at most once, a key is never processed twice at the same time, and a
// key dirtied while it is processed runs again afterwards. Work runs on the
// injectable Clock, never inside a store listener: a listener that wrote to the
// store would deliver its own events before other listeners saw the first one.

import type { Clock } from "../types.ts";

export interface WorkQueue {
  add(key: string): void;
  /** Queues the key after `ms` (earlier requests for the same key win). */
  addAfter(key: string, ms: number): void;
  /** Keys waiting to run now. */
  size(): number;
  stop(): void;
}

export interface WorkQueueOptions {
  clock: Clock;
  /** Processes one key. Errors are reported and the key retried with capped back-off. */
  process: (key: string) => void;
  /** Keys processed per turn before yielding to other timers (HTTP, kubelets). Default 500. */
  batchSize?: number;
  onError?: (key: string, err: unknown) => void;
}

export function createWorkQueue(options: WorkQueueOptions): WorkQueue {
  const { clock, process } = options;
  const batchSize = options.batchSize ?? 500;
  const queue = new Set<string>();
  const delayed = new Map<string, { at: number; timer: { cancel(): void } }>();
  const failures = new Map<string, number>();
  let scheduled: { cancel(): void } | undefined;
  let stopped = false;

  function schedule(): void {
    if (scheduled || stopped || queue.size === 0) return;
    scheduled = clock.setTimeout(drain, 0);
  }

  function drain(): void {
    scheduled = undefined;
    let n = 0;
    for (const key of queue) {
      if (stopped || n >= batchSize) break;
      queue.delete(key);
      n++;
      try {
        process(key);
        failures.delete(key);
      } catch (err) {
        const count = (failures.get(key) ?? 0) + 1;
        failures.set(key, count);
        options.onError?.(key, err);
        // 5 ms doubling to 1 s: the rate limiter of client-go's default controller queue.
        addAfter(key, Math.min(5 * 2 ** (count - 1), 1_000));
      }
    }
    schedule();
  }

  function add(key: string): void {
    if (stopped) return;
    queue.add(key);
    schedule();
  }

  function addAfter(key: string, ms: number): void {
    if (stopped) return;
    if (ms <= 0) return add(key);
    const at = clock.now() + ms;
    const existing = delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = clock.setTimeout(() => {
      delayed.delete(key);
      add(key);
    }, ms);
    delayed.set(key, { at, timer });
  }

  return {
    add,
    addAfter,
    size: () => queue.size,
    stop() {
      stopped = true;
      scheduled?.cancel();
      scheduled = undefined;
      for (const d of delayed.values()) d.timer.cancel();
      delayed.clear();
      queue.clear();
    },
  };
}
