// When to recompute one cluster's coverage: soon after a change (debounced, so
// a burst of watch events costs one recomputation), never more often than a
// floor allows (so a flapping cluster cannot keep the database busy), and at
// the moment the last verdicts said time alone would change one (`changesAt`:
// a sensor turning silent). Runs never overlap. A failed run is tried again
// after `retryMs` even if nothing changes: a quiet cluster sends no event for
// minutes, and its rows would stay stale (or wrong) until one came.

import type { Clock } from "@tapfleet/kube";

export interface RecomputeScheduler {
  /** Something changed: run within `debounceMs` (later only to respect `minIntervalMs`). */
  markDirty(): void;
  /** Run at this clock time (the earliest `changesAt`), or never for null; replaces the previous wake-up. */
  wakeAt(at: number | null): void;
  /** Cancels every timer; a run under way finishes, nothing starts after. */
  stop(): void;
}

export function createRecomputeScheduler(options: {
  clock: Clock;
  /**
   * The most a change waits for the next run (default 50 ms: a run judges only the nodes
   * a change touched, so gathering a burst need not cost the change's latency).
   */
  debounceMs?: number;
  /**
   * The least time between the starts of two runs (default 250 ms: a change that comes just
   * after a run waits this long, and runs judging a few nodes are cheap).
   */
  minIntervalMs?: number;
  /** After a failed run, the next one comes at the latest this much later (default 2 s). */
  retryMs?: number;
  run: () => Promise<void>;
  onError: (error: unknown) => void;
}): RecomputeScheduler {
  const { clock } = options;
  const debounceMs = options.debounceMs ?? 50;
  const minIntervalMs = options.minIntervalMs ?? 250;
  const retryMs = options.retryMs ?? 2_000;
  let dirtyDueAt: number | undefined;
  let retryAt: number | undefined;
  let wakeAt: number | undefined;
  let lastStart = Number.NEGATIVE_INFINITY;
  let running = false;
  let stopped = false;
  let timer: { at: number; cancel: () => void } | undefined;

  const dueAt = (): number | undefined => {
    const wanted = Math.min(dirtyDueAt ?? Infinity, wakeAt ?? Infinity, retryAt ?? Infinity);
    return wanted === Infinity ? undefined : Math.max(wanted, lastStart + minIntervalMs);
  };

  function arm(): void {
    if (stopped || running) return;
    const at = dueAt();
    if (timer && timer.at === at) return;
    timer?.cancel();
    timer = undefined;
    if (at === undefined) return;
    const cancel = clock.setTimer(fire, Math.max(0, at - clock.now()));
    timer = { at, cancel };
  }

  function fire(): void {
    timer = undefined;
    if (stopped) return;
    const now = clock.now();
    if (wakeAt !== undefined && wakeAt <= now) wakeAt = undefined;
    dirtyDueAt = undefined;
    retryAt = undefined;
    lastStart = now;
    running = true;
    options
      .run()
      .catch((error: unknown) => {
        retryAt = clock.now() + retryMs;
        options.onError(error);
      })
      .finally(() => {
        running = false;
        arm();
      });
  }

  return {
    markDirty() {
      dirtyDueAt ??= clock.now() + debounceMs;
      arm();
    },
    wakeAt(at) {
      wakeAt = at ?? undefined;
      arm();
    },
    stop() {
      stopped = true;
      timer?.cancel();
      timer = undefined;
    },
  };
}
