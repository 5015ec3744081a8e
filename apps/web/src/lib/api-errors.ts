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

/**
 * Field errors from input validation, keyed by input field name, as sentences to show under
 * their field: the server's "must be at least 3 characters" becomes "Must be at least 3 characters.".
 */
export function fieldErrors(error: unknown): Record<string, string> {
  const zod = dataOf(error)?.zodError;
  if (typeof zod !== "object" || zod === null) return {};
  const fields = (zod as { fieldErrors?: unknown }).fieldErrors;
  if (typeof fields !== "object" || fields === null) return {};
  const out: Record<string, string> = {};
  for (const [key, messages] of Object.entries(fields)) {
    if (Array.isArray(messages) && typeof messages[0] === "string") out[key] = asSentence(messages[0]);
  }
  return out;
}

// ---- Sentences -------------------------------------------------------------------------------

/** Capital first letter, final full stop: "too short" → "Too short.". */
export function asSentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capitalised = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** "expiresAt" → "Expires at", "params.snapLength" → "Params › snap length". */
export function fieldLabel(path: string): string {
  const words = path.split(".").map((segment) =>
    segment
      .replace(/_/g, " ")
      .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
      .toLowerCase(),
  );
  return asSentence(words.join(" › ")).replace(/\.$/, "");
}

// A field name as the API sends it in front of a message: "username: …", "params.filter: …".
const FIELD_PREFIX = /^([a-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*): (.+)$/s;

/**
 * Server text as sentences: each "field: message" clause (the API names the field in front of
 * what is wrong, "username: must be at least 3 characters; role: invalid option") becomes
 * "Username: must be at least 3 characters. Role: invalid option."; other text gets a capital
 * and a full stop.
 */
export function serverMessageToSentences(message: string): string {
  const clauses = message.split("; ");
  if (clauses.length > 1 && clauses.every((clause) => FIELD_PREFIX.test(clause))) {
    return clauses.map(fieldClause).join(" ");
  }
  return FIELD_PREFIX.test(message) ? fieldClause(message) : asSentence(message);
}

function fieldClause(clause: string): string {
  const [, field = "", text = ""] = FIELD_PREFIX.exec(clause) ?? [];
  const trimmed = text.trim();
  const ending = /[.!?…]$/.test(trimmed) ? "" : ".";
  return `${fieldLabel(field)}: ${trimmed}${ending}`;
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
      ? asSentence(error.message)
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
  return error.message ? serverMessageToSentences(error.message) : "Something went wrong. Please try again.";
}
