// A Clock that only moves when a test tells it to, so controller and kubelet
// delays are deterministic and no test sleeps.

import type { Clock } from "./types.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export interface ManualClock extends Clock {
  /** Moves time forward, firing due timers in order (timers scheduled meanwhile fire too if due). */
  advance(ms: number): void;
  /** Fires every timer due now (delay 0 included) until none is left. */
  flush(): void;
  /** Number of timers still pending. */
  pending(): number;
}

export function createManualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let now = startMs;
  let seq = 0;
  const timers: Timer[] = [];

  function nextDue(limit: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of timers) {
      if (t.cancelled || t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }

  function runUntil(limit: number): void {
    for (;;) {
      const t = nextDue(limit);
      if (!t) break;
      timers.splice(timers.indexOf(t), 1);
      now = Math.max(now, t.at);
      t.fn();
    }
    now = Math.max(now, limit);
  }

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer: Timer = { at: now + Math.max(0, ms), seq: seq++, fn, cancelled: false };
      timers.push(timer);
      return {
        cancel: () => {
          timer.cancelled = true;
          const i = timers.indexOf(timer);
          if (i >= 0) timers.splice(i, 1);
        },
      };
    },
    advance(ms) {
      runUntil(now + ms);
    },
    flush() {
      runUntil(now);
    },
    pending: () => timers.filter((t) => !t.cancelled).length,
  };
}
