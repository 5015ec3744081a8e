// Capped, jittered exponential backoff for restarting lists and watches.

export interface BackoffOptions {
  /** First delay before jitter. Default 500 ms. */
  initialMs?: number | undefined;
  /** Largest delay. Default 10 s, so a cluster that comes back is seen again within 10 s. */
  maxMs?: number | undefined;
  /** Growth per failure. Default 2. */
  factor?: number | undefined;
  /** A number in [0, 1); default Math.random. */
  random?: (() => number) | undefined;
}

export interface Backoff {
  /**
   * The delay before the next attempt: exponential in the failures so far, capped at `maxMs`,
   * with "equal jitter" (between half and all of it) so many clusters never retry in step.
   * A server's Retry-After wins when it asks for longer.
   */
  next(retryAfterMs?: number): number;
  /** After a success: the next failure starts from `initialMs` again. */
  reset(): void;
  /** Failures since the last reset. */
  readonly failures: number;
}

export function createBackoff(options: BackoffOptions = {}): Backoff {
  const initialMs = options.initialMs ?? 500;
  const maxMs = options.maxMs ?? 10_000;
  const factor = options.factor ?? 2;
  const random = options.random ?? Math.random;
  if (!(initialMs > 0)) throw new Error(`backoff: initialMs must be positive, got ${initialMs}`);
  if (!(maxMs >= initialMs)) throw new Error(`backoff: maxMs must be at least initialMs, got ${maxMs}`);
  if (!(factor >= 1)) throw new Error(`backoff: factor must be at least 1, got ${factor}`);
  let failures = 0;
  return {
    next(retryAfterMs) {
      const base = Math.min(maxMs, initialMs * factor ** failures);
      failures++;
      const jittered = base / 2 + (base / 2) * random();
      return Math.max(jittered, retryAfterMs ?? 0);
    },
    reset() {
      failures = 0;
    },
    get failures() {
      return failures;
    },
  };
}
