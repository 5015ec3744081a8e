// Exponential backoff with "full jitter" (AWS architecture blog, 2015): the
// delay is uniform in [0, min(cap, base·2^attempt)]. After an outage every
// agent of a fleet retries at once; spreading over the whole window is what
// keeps them from arriving at the server in waves.

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  random?: () => number;
}

export function fullJitterDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}
