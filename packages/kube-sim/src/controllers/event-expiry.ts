// Events expire as in a real cluster: the API server stores each Event with an
// etcd lease of `--event-ttl` (1 h), renewed by every write to it, so an Event is
// gone an hour after it was last recorded. Runs on the cluster's clock with one
// timer: expiries only move forward, so a FIFO of (due, event) is enough.

import type { Clock, StoreEvent } from "../types.ts";
import { isApiError } from "../errors.ts";
import type { SimObjectStore } from "../store.ts";

export interface EventExpiryOptions {
  store: SimObjectStore;
  clock: Clock;
  /** How long an Event lives after its last write. Default 1 h. */
  ttlMs?: number;
  onError?: (err: unknown) => void;
}

export interface EventExpiry {
  stop(): void;
}

export function startEventExpiry(options: EventExpiryOptions): EventExpiry {
  const { store, clock } = options;
  const ttlMs = options.ttlMs ?? 3_600_000;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new Error("eventTTLMs must be a positive number of ms");
  /** Event key → when it is due; the FIFO may hold older entries for a key, which are skipped. */
  const due = new Map<string, number>();
  const fifo: { at: number; key: string; uid: string }[] = [];
  let head = 0;
  let timer: { cancel(): void } | undefined;
  let stopped = false;

  function schedule(): void {
    if (timer || stopped || head >= fifo.length) return;
    timer = clock.setTimeout(sweep, Math.max(0, fifo[head]!.at - clock.now()));
  }

  function sweep(): void {
    timer = undefined;
    const now = clock.now();
    while (head < fifo.length && fifo[head]!.at <= now) {
      const { at, key, uid } = fifo[head++]!;
      if (due.get(key) !== at) continue;
      due.delete(key);
      const [namespace, name] = key.split("/") as [string, string];
      try {
        store.delete("events", namespace, name, { preconditions: { uid } });
      } catch (err) {
        if (!isApiError(err, "NotFound") && !isApiError(err, "Conflict")) options.onError?.(err);
      }
    }
    // Drop the consumed prefix now and then so the array does not grow for ever.
    if (head > 1_024 && head * 2 > fifo.length) {
      fifo.splice(0, head);
      head = 0;
    }
    schedule();
  }

  const unsubscribe = store.subscribe((e: StoreEvent) => {
    if (e.resource !== "events") return;
    const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
    if (e.type === "DELETED") {
      due.delete(key);
      return;
    }
    const at = clock.now() + ttlMs;
    due.set(key, at);
    fifo.push({ at, key, uid: e.object.metadata.uid! });
    schedule();
  });

  return {
    stop() {
      stopped = true;
      unsubscribe();
      timer?.cancel();
    },
  };
}
