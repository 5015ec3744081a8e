// Polling for tests, shared by the server's and the agent's test suites: for
// a condition nothing announces (a line in a child process's output, a row in
// the database, a file another process writes). Where an event can be
// awaited, await it instead. Built on vitest's vi.waitFor, which re-checks on
// an interval, never runs two checks at once and honours the timeout even
// while a check hangs; this adds what was awaited and what the last check saw
// to the timeout error.
import { vi } from "vitest";

export interface WaitForOptions {
  /** What is awaited, for the timeout error: "the agent's first report". A function is called only on timeout. */
  what: string | (() => string);
  timeoutMs: number;
  /** Pause between checks; 50 ms unless given. */
  intervalMs?: number;
}

/** How the last check went, in a few words. */
function describeLast(last: { value: unknown } | { error: unknown } | undefined): string {
  if (last === undefined) return "no check finished";
  if ("error" in last)
    return `the last check threw: ${last.error instanceof Error ? last.error.message : String(last.error)}`;
  let text: string;
  try {
    text = JSON.stringify(last.value) ?? String(last.value);
  } catch {
    text = String(last.value);
  }
  return `the last check gave ${text.length > 500 ? `${text.slice(0, 500)}…` : text}`;
}

/**
 * Re-checks until `check` gives a value that `until` accepts, and resolves
 * with that value. A check that throws counts as not yet. After `timeoutMs`
 * it rejects with "timed out after … waiting for <what>; the last check …".
 */
export function waitFor<T>(
  check: () => T | Promise<T>,
  options: WaitForOptions & { until: (value: T) => boolean },
): Promise<T>;
/** Re-checks until `check` gives something other than undefined, and resolves with it. */
export function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  options: WaitForOptions,
): Promise<T>;
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  options: WaitForOptions & { until?: (value: T) => boolean },
): Promise<T> {
  const accept = options.until ?? ((value: T) => value !== undefined);
  const notYet = new Error("the condition does not hold yet");
  let last: { value: unknown } | { error: unknown } | undefined;
  try {
    return await vi.waitFor(
      async () => {
        let value: T | undefined;
        try {
          value = await check();
        } catch (error) {
          last = { error };
          throw error;
        }
        last = { value };
        if (!accept(value as T)) throw notYet;
        return value as T;
      },
      { timeout: options.timeoutMs, interval: options.intervalMs ?? 50 },
    );
  } catch (error) {
    const what = typeof options.what === "string" ? options.what : options.what();
    throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}; ${describeLast(last)}`, {
      cause: error,
    });
  }
}
