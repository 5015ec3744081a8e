// Watch streaming, in the API server's wire format: 200 with headers sent at
// once, chunked, one `{"type":…,"object":…}` JSON document per line. Replay
// comes from the store's history (`eventsSince`); a version older than the
// history gets one ERROR event with a 410 Expired Status and the stream ends,
// as client libraries expect in order to relist.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiError } from "../errors.ts";
import { apiVersionOf, presentAs, storageName, type ResourceInfo } from "../resources.ts";
import type { SimObjectStore } from "../store.ts";
import type { KubeObject, StoreEvent } from "../types.ts";
import { toApiError } from "./respond.ts";
import { toTable, type IncludeObject } from "./tables.ts";

export interface WatchRequest {
  info: ResourceInfo;
  namespace: string | undefined;
  labelSelector: string | undefined;
  fieldSelector: string | undefined;
  /** Unset, "" or "0": start with synthetic ADDED events for the current state. */
  resourceVersion: string | undefined;
  allowWatchBookmarks: boolean;
  /** `sendInitialEvents=true` (watch-list): ADDED for the current state, then a BOOKMARK marking their end. */
  sendInitialEvents: boolean;
  timeoutSeconds: number | undefined;
  /** Set when the client asked for Table output (`kubectl get -w`). */
  table: { includeObject: IncludeObject } | undefined;
}

type WireEventType = StoreEvent["type"] | "BOOKMARK" | "ERROR";

/** Tracks open watches of one server so faults can drop them and `stop()` can end them. */
export class WatchHub {
  private readonly open = new Set<(mode: "close" | "reset") => void>();

  constructor(
    private readonly store: SimObjectStore,
    private readonly options: { bookmarkIntervalMs: number; defaultTimeoutSeconds: number },
  ) {}

  get openCount(): number {
    return this.open.size;
  }

  /** Ends every open watch stream (clients see the stream close and re-watch). Returns how many. */
  dropAll(mode: "close" | "reset" = "close"): number {
    const closers = [...this.open];
    for (const close of closers) close(mode);
    return closers.length;
  }

  /** Streams one watch. Throws (before any header is sent) for bad selectors or versions. */
  serve(_req: IncomingMessage, res: ServerResponse, watch: WatchRequest): void {
    const { store } = this;
    const resource = storageName(watch.info);
    const apiVersion = apiVersionOf(watch.info);
    // Throws 400 for unsupported selectors before any header is sent.
    const matches = store.compileFilter(resource, {
      namespace: watch.namespace,
      labelSelector: watch.labelSelector,
      fieldSelector: watch.fieldSelector,
    });

    const rv = watch.resourceVersion;
    const fromNow = rv === undefined || rv === "" || rv === "0" || watch.sendInitialEvents;
    let replay: StoreEvent[] = [];
    let expiredError: ApiError | undefined;

    if (fromNow) {
      const { items } = store.list(resource, { namespace: watch.namespace });
      replay = items.filter(matches).map((object) => ({ type: "ADDED", resource, object }));
    } else {
      try {
        replay = store.eventsSince(rv, resource);
      } catch (error) {
        const apiError = toApiError(error);
        if (apiError.status.code !== 410) throw apiError;
        expiredError = apiError;
      }
    }

    res.writeHead(200, {
      "Content-Type": "application/json",
      "Cache-Control": "no-cache, private",
      "Transfer-Encoding": "chunked",
    });
    res.flushHeaders();

    const write = (type: WireEventType, object: object): void => {
      if (res.writableEnded || res.destroyed) return;
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const present = (stored: KubeObject): object => {
      const object = presentAs(watch.info, stored);
      const full =
        object.kind && object.apiVersion ? object : { ...object, kind: watch.info.kind, apiVersion };
      return watch.table
        ? toTable(watch.info.kind, [full], { includeObject: watch.table.includeObject, now: Date.now() })
        : full;
    };

    if (expiredError) {
      write("ERROR", expiredError.status);
      res.end();
      return;
    }

    /**
     * Each event as it happened, seen through the selection the way the API
     * server's cacheWatcher does: compare the object before and after the change,
     * so one entering the selection is ADDED, one leaving it DELETED, one created
     * is ADDED, and replayed events tell the same story as live ones.
     */
    const deliver = (event: StoreEvent): void => {
      const before = event.type === "DELETED" ? (event.previous ?? event.object) : event.previous;
      const wasMatch = before !== undefined && matches(before);
      if (event.type === "DELETED") {
        if (wasMatch || matches(event.object)) write("DELETED", present(event.object));
        return;
      }
      const isMatch = matches(event.object);
      if (isMatch) write(wasMatch ? "MODIFIED" : "ADDED", present(event.object));
      else if (wasMatch) write("DELETED", present(event.object));
    };

    const bookmark = (annotations?: Record<string, string>): void =>
      write("BOOKMARK", {
        kind: watch.info.kind,
        apiVersion,
        metadata: {
          resourceVersion: store.currentResourceVersion(),
          ...(annotations ? { annotations } : {}),
        },
      });

    // Subscribe in the same tick as the replay was computed, so no event falls in between.
    const unsubscribe = store.subscribe((event) => {
      if (event.resource === resource) deliver(event);
    });
    for (const event of replay) deliver(event);
    if (watch.sendInitialEvents && watch.allowWatchBookmarks)
      bookmark({ "k8s.io/initial-events-end": "true" });

    const timers: NodeJS.Timeout[] = [];
    if (watch.allowWatchBookmarks) {
      const interval = setInterval(() => bookmark(), this.options.bookmarkIntervalMs);
      timers.push(interval);
    }
    const timeoutSeconds = watch.timeoutSeconds ?? this.options.defaultTimeoutSeconds;
    timers.push(setTimeout(() => close("close"), timeoutSeconds * 1000));

    let closed = false;
    const close = (mode: "close" | "reset"): void => {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const timer of timers) clearTimeout(timer);
      this.open.delete(close);
      // "reset" imitates a broken connection; "close" a server ending the stream cleanly.
      if (mode === "reset") res.destroy();
      else if (!res.writableEnded) res.end();
    };
    this.open.add(close);
    // Not req's "close": that fires once the (empty) request body is read, not on disconnect.
    res.on("close", () => close("close"));
  }
}
