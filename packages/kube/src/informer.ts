// One list+watch loop for one kind of object: list (paged), then watch from the
// list's resourceVersion with bookmarks; on 410 relist; on any other error
// restart with capped, jittered backoff (honouring Retry-After); a watch that
// goes quiet is checked (through `probe`) and restarted. It never polls.

import { createBackoff, type Backoff } from "./backoff.ts";
import { delay, systemClock, type CancelTimer, type Clock } from "./clock.ts";
import {
  applyStoreChanges,
  planRelist,
  planWatchEvent,
  type StoreChange,
  type Versioned,
} from "./reducer.ts";
import { describe, KubeRequestError } from "./transport.ts";

/** One page of a list, as the API server sends it (items untrimmed). */
export interface ListPage {
  items: unknown[];
  resourceVersion: string;
  continue?: string | undefined;
}

export type InformerErrorReason =
  /** 410: the resourceVersion is too old; the informer relists at once. */
  | "expired"
  /** The list or the watch request failed (refused, reset, 5xx, 429…). */
  | "request"
  /** The watch sent nothing for too long and the probe failed, or it stayed silent past `quietAfterMs`. */
  | "quiet";

export type InformerEvent<T> =
  | StoreChange<T>
  /** A (re)list finished: the store now equals the server's list. */
  | { type: "synced" }
  /** A watch is open (the server answered it). */
  | { type: "connected" }
  | { type: "error"; reason: InformerErrorReason; error: Error; retryInMs: number };

export interface InformerOptions<T extends Versioned> {
  /** Named in errors: "pods of DaemonSet tapfleet-sensor/agent in cluster prod". */
  name: string;
  /** Fetches one page of the list. */
  list(request: { limit: number; continue: string | undefined; signal: AbortSignal }): Promise<ListPage>;
  /** Opens a watch from `resourceVersion` (with bookmarks); resolves with its lines once the server has answered. */
  watch(request: {
    resourceVersion: string;
    timeoutSeconds: number;
    signal: AbortSignal;
  }): Promise<AsyncIterable<string>>;
  /** The part of an object we keep, or undefined for objects we do not keep. */
  trim(raw: unknown): T | undefined;
  /** The store key of a raw object; default `namespace/name`. */
  key?: ((raw: unknown) => string) | undefined;
  clock?: Clock | undefined;
  backoff?: Backoff | undefined;
  /** Random in [0, 1) for the watch timeout's spread; default Math.random. */
  random?: (() => number) | undefined;
  /** Page size of lists. Default 500. */
  pageSize?: number | undefined;
  /**
   * Runs each whole list (all its pages), e.g. through a limit shared by many
   * informers, so that only so many lists are read at once; default at once.
   */
  listLimit?: ListLimit | undefined;
  /**
   * After this long without a line (event or bookmark) the watch is checked with `probe`.
   * Default 7 s: with a 2 s probe a dead server is noticed within 10 s.
   */
  probeAfterMs?: number | undefined;
  /** Asks whether the server is still there (cheaply); rejects when it is not. */
  probe?: ((signal: AbortSignal) => Promise<void>) | undefined;
  /**
   * A watch silent this long is restarted from its resourceVersion even when the probe
   * answers. Default 90 s: API servers send a bookmark about once a minute.
   */
  quietAfterMs?: number | undefined;
}

/** Runs `list` when a slot is free (p-limit's shape). */
export type ListLimit = <R>(list: () => Promise<R>) => Promise<R>;

export interface Informer<T> {
  readonly name: string;
  /** The trimmed objects by key (read-only view; do not keep it across events). */
  readonly store: ReadonlyMap<string, T>;
  /** True once the first list has been merged. */
  readonly synced: boolean;
  /** Listens to events; returns the function that stops listening. */
  subscribe(listener: (event: InformerEvent<T>) => void): () => void;
  /** Resolves when the informer has synced once (rejects if it is stopped first). */
  whenSynced(): Promise<void>;
  /** Stops the loop and closes the watch; the store keeps its last contents. */
  stop(): Promise<void>;
}

class QuietWatch extends Error {}

export function defaultKey(raw: unknown): string {
  const metadata = (raw as { metadata?: { namespace?: string; name?: string } } | null)?.metadata;
  return metadata?.namespace ? `${metadata.namespace}/${metadata.name ?? ""}` : (metadata?.name ?? "");
}

/** Creates and starts an informer. */
export function createInformer<T extends Versioned>(options: InformerOptions<T>): Informer<T> {
  const clock = options.clock ?? systemClock;
  const backoff = options.backoff ?? createBackoff();
  const random = options.random ?? Math.random;
  const key = options.key ?? defaultKey;
  const pageSize = options.pageSize ?? 500;
  const probeAfterMs = options.probeAfterMs ?? 7_000;
  const quietAfterMs = options.quietAfterMs ?? 90_000;
  const store = new Map<string, T>();
  const listeners = new Set<(event: InformerEvent<T>) => void>();
  const stopping = new AbortController();
  let synced = false;
  let syncWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  const emit = (event: InformerEvent<T>): void => {
    for (const listener of listeners) listener(event);
  };

  async function listAll(): Promise<{ listed: Map<string, T>; listVersion: string }> {
    const listed = new Map<string, T>();
    let token: string | undefined;
    let listVersion: string;
    do {
      const page = await options.list({ limit: pageSize, continue: token, signal: stopping.signal });
      for (const raw of page.items) {
        const object = options.trim(raw);
        if (object !== undefined) listed.set(key(raw), object);
      }
      // The list's resourceVersion is that of its first page's snapshot; every page repeats it.
      listVersion = page.resourceVersion;
      token = page.continue || undefined;
    } while (token !== undefined);
    return { listed, listVersion };
  }

  async function relist(): Promise<string> {
    const { listed, listVersion } = await (options.listLimit ? options.listLimit(listAll) : listAll());
    const changes = planRelist(store, listed);
    applyStoreChanges(store, changes);
    for (const change of changes) emit(change);
    if (!synced) {
      synced = true;
      for (const waiter of syncWaiters) waiter.resolve();
      syncWaiters = [];
    }
    emit({ type: "synced" });
    return listVersion;
  }

  /** The last resourceVersion seen (list, event or bookmark); undefined means "list first". Kept across watch failures. */
  let resourceVersion: string | undefined;

  /** Watches until the stream ends or fails; returns whether anything came. */
  async function watchOnce(from: string): Promise<boolean> {
    const controller = new AbortController();
    const onStop = (): void => controller.abort();
    stopping.signal.addEventListener("abort", onStop, { once: true });
    let received = false;
    let quietError: Error | undefined;
    let cancelProbe: CancelTimer = () => undefined;
    let cancelQuiet: CancelTimer = () => undefined;
    const abortQuiet = (error: Error): void => {
      quietError ??= error;
      controller.abort();
    };
    const armTimers = (): void => {
      cancelProbe();
      cancelQuiet();
      cancelProbe = clock.setTimer(() => {
        if (!options.probe) return;
        options.probe(controller.signal).then(
          () => undefined,
          (error: unknown) =>
            abortQuiet(
              new QuietWatch(
                `${options.name}: no event or bookmark for ${probeAfterMs} ms and the server does not answer`,
                {
                  cause: error,
                },
              ),
            ),
        );
      }, probeAfterMs);
      cancelQuiet = clock.setTimer(
        () => abortQuiet(new QuietWatch(`${options.name}: no event or bookmark for ${quietAfterMs} ms`)),
        quietAfterMs,
      );
    };
    try {
      armTimers();
      // Like client-go: a watch lasts 5 to 10 minutes, so connections move between API servers.
      const timeoutSeconds = Math.floor(300 + 300 * random());
      const lines = await options.watch({ resourceVersion: from, timeoutSeconds, signal: controller.signal });
      emit({ type: "connected" });
      for await (const line of lines) {
        armTimers();
        if (line.trim() === "") continue;
        const event = JSON.parse(line) as { type?: string; object?: unknown };
        if (!received) {
          received = true;
          backoff.reset();
        }
        resourceVersion = handleWatchEvent(event, resourceVersion ?? from);
      }
      if (quietError) throw quietError;
      return received;
    } catch (error) {
      if (quietError) throw quietError;
      throw error;
    } finally {
      cancelProbe();
      cancelQuiet();
      controller.abort();
      stopping.signal.removeEventListener("abort", onStop);
    }
  }

  function handleWatchEvent(event: { type?: string; object?: unknown }, current: string): string {
    const object = event.object as { metadata?: { resourceVersion?: string } } | undefined;
    const resourceVersion = object?.metadata?.resourceVersion ?? current;
    switch (event.type) {
      case "BOOKMARK":
        return resourceVersion;
      case "ADDED":
      case "MODIFIED":
      case "DELETED": {
        const changes = planWatchEvent(store, {
          type: event.type,
          key: key(object),
          object: options.trim(object),
        });
        applyStoreChanges(store, changes);
        for (const change of changes) emit(change);
        return resourceVersion;
      }
      case "ERROR": {
        const status = object as { code?: number; reason?: string; message?: string } | undefined;
        throw new KubeRequestError(`${options.name}: the watch failed: ${status?.message ?? "no message"}`, {
          status: status?.code ?? 500,
          reason: status?.reason,
        });
      }
      default:
        throw new Error(`${options.name}: unknown watch event type ${JSON.stringify(event.type)}`);
    }
  }

  async function run(): Promise<void> {
    let expiredInARow = 0;
    while (!stopping.signal.aborted) {
      try {
        resourceVersion ??= await relist();
        const received = await watchOnce(resourceVersion);
        expiredInARow = 0;
        // A watch the server ends at once, again and again, must not turn into a busy loop.
        if (!received) await delay(clock, backoff.next(), stopping.signal);
      } catch (error) {
        if (stopping.signal.aborted) break;
        const expired = error instanceof KubeRequestError && error.expired;
        const reason: InformerErrorReason = expired
          ? "expired"
          : error instanceof QuietWatch
            ? "quiet"
            : "request";
        if (expired) {
          resourceVersion = undefined;
          expiredInARow++;
        }
        // The first 410 relists at once; a relist that expires too waits like any failure.
        const retryInMs =
          expired && expiredInARow === 1
            ? 0
            : backoff.next(error instanceof KubeRequestError ? error.retryAfterMs : undefined);
        const wrapped = new Error(
          `${reason === "request" ? "listing or watching " : ""}${options.name}: ${describe(error)}`,
          {
            cause: error,
          },
        );
        emit({ type: "error", reason, error: wrapped, retryInMs });
        if (retryInMs > 0) await delay(clock, retryInMs, stopping.signal);
      }
    }
  }

  const running = run().catch((error: unknown) => {
    // run() catches everything it expects; anything else is a bug and must be seen.
    queueMicrotask(() => {
      throw error;
    });
  });

  return {
    name: options.name,
    store,
    get synced() {
      return synced;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    whenSynced() {
      if (synced) return Promise.resolve();
      if (stopping.signal.aborted)
        return Promise.reject(new Error(`${options.name}: stopped before it synced`));
      return new Promise((resolve, reject) => syncWaiters.push({ resolve, reject }));
    },
    async stop() {
      stopping.abort();
      for (const waiter of syncWaiters) waiter.reject(new Error(`${options.name}: stopped before it synced`));
      syncWaiters = [];
      await running;
    },
  };
}
