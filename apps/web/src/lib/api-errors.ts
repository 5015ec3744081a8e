// Reading errors that come back from the server. The error formatter adds `appCode` and
// flattened zod `fieldErrors` to `error.data`; these helpers read them defensively so that a
// network failure or a proxy's HTML error page still yields a sentence a person can act on.
import { isTRPCClientError } from "@trpc/client";

interface ErrorData {
  code?: unknown;
  httpStatus?: unknown;
  appCode?: unknown;
  zodError?: unknown;
  retryAfterSeconds?: unknown;
  retryAfter?: unknown;
}

function dataOf(error: unknown): ErrorData | undefined {
  if (!isTRPCClientError(error)) return undefined;
  const data: unknown = error.data;
  return typeof data === "object" && data !== null ? data : undefined;
}

/** The tRPC error code (`UNAUTHORIZED`, `TOO_MANY_REQUESTS`…), or undefined for network errors. */
export function errorCode(error: unknown): string | undefined {
  const code = dataOf(error)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The application error code (`INVALID_CREDENTIALS`, `RATE_LIMITED`…), if the server sent one. */
export function appErrorCode(error: unknown): string | undefined {
  const code = dataOf(error)?.appCode;
  return typeof code === "string" ? code : undefined;
}

/** Field errors from input validation, keyed by input field name. */
export function fieldErrors(error: unknown): Record<string, string> {
  const zod = dataOf(error)?.zodError;
  if (typeof zod !== "object" || zod === null) return {};
  const fields = (zod as { fieldErrors?: unknown }).fieldErrors;
  if (typeof fields !== "object" || fields === null) return {};
  const out: Record<string, string> = {};
  for (const [key, messages] of Object.entries(fields)) {
    if (Array.isArray(messages) && typeof messages[0] === "string") out[key] = messages[0];
  }
  return out;
}

/** Seconds until a rate-limited request may be tried again, when the server says so. */
export function retryAfterSeconds(error: unknown): number | undefined {
  const data = dataOf(error);
  for (const value of [data?.retryAfterSeconds, data?.retryAfter]) {
    if (typeof value === "number" && Number.isFinite(value) && value > 0) return Math.ceil(value);
  }
  // Fall back to a number in the message ("… try again in 42 s") so the countdown still works
  // if the server only puts it in the text.
  const match = error instanceof Error ? /(\d+)\s*(?:s\b|sec|second)/i.exec(error.message) : null;
  return match?.[1] ? Number(match[1]) : undefined;
}

/** A sentence for the person looking at the screen. */
export function errorMessage(error: unknown): string {
  if (!isTRPCClientError(error)) {
    return error instanceof Error && error.message
      ? error.message
      : "Something went wrong. Please try again.";
  }
  const data = dataOf(error);
  if (!data) {
    // No tRPC envelope: the request never reached the API (offline, server restarting, proxy page).
    return "Cannot reach the Tapfleet server. Check that it is running and try again.";
  }
  if (Object.keys(fieldErrors(error)).length > 0 && error.message.trimStart().startsWith("[")) {
    // tRPC's default message for input validation is a JSON dump of zod issues: not for people.
    return "Some fields need attention.";
  }
  if (errorCode(error) === "INTERNAL_SERVER_ERROR" && !error.message) {
    return "The server hit an unexpected error. Please try again.";
  }
  return error.message || "Something went wrong. Please try again.";
}
