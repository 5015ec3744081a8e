// Fault injection for one simulated cluster: the failures an informer or a
// controller must survive, on demand. Failures apply to resource requests
// (lists, watches, reads, writes), never to /version or discovery, so kubectl
// keeps resolving resources while its API calls fail.

import { internalError, tooManyRequests, type ApiError } from "../errors.ts";
import type { SimObjectStore } from "../store.ts";
import { failure } from "./respond.ts";
import type { WatchHub } from "./watch.ts";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

export interface FailureSpec {
  /** 500 InternalError, 429 TooManyRequests (with Retry-After) or 503 ServiceUnavailable. */
  code: 500 | 429 | 503;
  /** Fail this many matching requests, then stop. */
  count?: number;
  /** Fail matching requests for this long (from now). Without count or duration: until `clear()`. */
  durationMs?: number;
  /** For 429/503: the Retry-After header in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Only these verbs; default all. */
  verbs?: Verb[];
  /** Only this resource (`pods`, `daemonsets.apps`); default all. */
  resource?: string;
}

export interface LatencySpec {
  ms: number;
  verbs?: Verb[];
  resource?: string;
}

export interface RequestFacts {
  verb: Verb;
  resource: string;
}

/** The fault controls of one cluster (`cluster.faults`). */
export interface FaultControls {
  /** Answers matching requests with failures (see FailureSpec). */
  fail(spec: FailureSpec): void;
  /** Delays matching requests before they are handled. `setLatency({ ms: 0 })` removes it. */
  setLatency(spec: LatencySpec): void;
  /** Ends all open watch streams now. `reset` destroys the sockets instead of ending cleanly. Returns how many. */
  dropWatches(options?: { mode?: "close" | "reset" }): number;
  /** Forgets the store's event history and list snapshots: watches from any earlier resourceVersion, and continue tokens, get 410 Expired. */
  expireHistory(): void;
  /** Removes injected failures and latency. */
  clear(): void;
  /** How many requests were answered with an injected failure so far. */
  readonly injectedFailures: number;
  /** How many watch streams are open now. */
  readonly openWatches: number;
}

interface ActiveFailure extends FailureSpec {
  remaining: number;
  until: number;
}

/** The server side of the controls: decides per request. */
export class Faults implements FaultControls {
  private failures: ActiveFailure[] = [];
  private latency: LatencySpec | undefined;
  private injected = 0;

  constructor(
    private readonly store: SimObjectStore,
    private readonly watches: WatchHub,
    /** Also called by `expireHistory` (the server forgets its list snapshots: continue tokens get 410). */
    private readonly onExpireHistory: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  fail(spec: FailureSpec): void {
    this.failures.push({
      ...spec,
      remaining: spec.count ?? Number.POSITIVE_INFINITY,
      until: spec.durationMs === undefined ? Number.POSITIVE_INFINITY : this.now() + spec.durationMs,
    });
  }

  setLatency(spec: LatencySpec): void {
    this.latency = spec.ms > 0 ? spec : undefined;
  }

  dropWatches(options: { mode?: "close" | "reset" } = {}): number {
    return this.watches.dropAll(options.mode ?? "close");
  }

  expireHistory(): void {
    this.store.expireHistory();
    this.onExpireHistory();
  }

  clear(): void {
    this.failures = [];
    this.latency = undefined;
  }

  get injectedFailures(): number {
    return this.injected;
  }

  get openWatches(): number {
    return this.watches.openCount;
  }

  /** Milliseconds to wait before handling this request. */
  latencyFor(request: RequestFacts): number {
    return this.latency && applies(this.latency, request) ? this.latency.ms : 0;
  }

  /** The failure to answer with, if one is injected for this request (consumes one of its count). */
  failureFor(request: RequestFacts): ApiError | undefined {
    const now = this.now();
    this.failures = this.failures.filter((f) => f.remaining > 0 && f.until > now);
    const active = this.failures.find((f) => applies(f, request));
    if (!active) return undefined;
    active.remaining--;
    this.injected++;
    const retryAfter = active.retryAfterSeconds ?? 1;
    switch (active.code) {
      case 429:
        return tooManyRequests(retryAfter);
      case 503:
        return failure(503, "ServiceUnavailable", "the server is currently unable to handle the request", {
          retryAfterSeconds: retryAfter,
        });
      case 500:
        return internalError("injected fault");
    }
  }
}

function applies(spec: { verbs?: Verb[]; resource?: string }, request: RequestFacts): boolean {
  return (
    (spec.verbs === undefined || spec.verbs.includes(request.verb)) &&
    (spec.resource === undefined || spec.resource === request.resource)
  );
}
