// The one application error type. Services throw AppError; the API maps the
// code to a tRPC code and an HTTP status through APP_ERROR_CODES.

/**
 * Every code an AppError may carry, with the tRPC code and HTTP status it maps to.
 * Clients may rely on these strings (`error.data.appCode`).
 */
export const APP_ERROR_CODES = {
  /** No credentials, or credentials that are unknown, malformed, expired or revoked. */
  UNAUTHENTICATED: { trpc: "UNAUTHORIZED", http: 401 },
  /** Wrong username or password at login. */
  INVALID_CREDENTIALS: { trpc: "UNAUTHORIZED", http: 401 },
  /** Authenticated, but the role is too small. */
  FORBIDDEN: { trpc: "FORBIDDEN", http: 403 },
  /** Too many attempts; retry later. */
  RATE_LIMITED: { trpc: "TOO_MANY_REQUESTS", http: 429 },
  NOT_FOUND: { trpc: "NOT_FOUND", http: 404 },
  /** A unique value (user name, token name…) is already taken. */
  CONFLICT: { trpc: "CONFLICT", http: 409 },
  /** Input that passed the schema but breaks a rule of the domain. */
  INVALID_INPUT: { trpc: "BAD_REQUEST", http: 400 },
  /** The route exists, but not for this HTTP method (a query sent as a mutation, or the reverse). */
  METHOD_NOT_ALLOWED: { trpc: "METHOD_NOT_SUPPORTED", http: 405 },
  /** The request body is larger than the endpoint accepts. */
  PAYLOAD_TOO_LARGE: { trpc: "PAYLOAD_TOO_LARGE", http: 413 },
  /** The request body is not in a content type the endpoint reads. */
  UNSUPPORTED_MEDIA_TYPE: { trpc: "UNSUPPORTED_MEDIA_TYPE", http: 415 },
  /**
   * A request the HTTP stack refused for a reason no other code names (406,
   * 408, 431…): the answer keeps the stack's own status, so 400 here is only
   * what an AppError of this code would get.
   */
  REQUEST_REFUSED: { trpc: "BAD_REQUEST", http: 400 },
  /** The database or another dependency is unreachable. */
  UNAVAILABLE: { trpc: "SERVICE_UNAVAILABLE", http: 503 },
  INTERNAL: { trpc: "INTERNAL_SERVER_ERROR", http: 500 },
} as const;

export type AppErrorCode = keyof typeof APP_ERROR_CODES;

/** Every code, for schemas and documents that list them. */
export const APP_ERROR_CODE_NAMES = Object.keys(APP_ERROR_CODES) as [AppErrorCode, ...AppErrorCode[]];

/**
 * The code for a status, for errors raised outside the domain (by the HTTP
 * stack): the first code with that status, else REQUEST_REFUSED for a 4xx
 * (the answer keeps its status) and INTERNAL for anything else.
 */
export function appErrorCodeForStatus(status: number): AppErrorCode {
  const found = APP_ERROR_CODE_NAMES.find((code) => APP_ERROR_CODES[code].http === status);
  if (found) return found;
  return status >= 400 && status < 500 ? "REQUEST_REFUSED" : "INTERNAL";
}

/** What an anonymous caller is told wherever credentials are required. */
export const SIGN_IN_MESSAGE = "Sign in, or send an API token as Authorization: Bearer <token>.";

export class AppError extends Error {
  readonly code: AppErrorCode;
  /** Safe to show to the caller; `message` may hold more detail for logs. */
  readonly userMessage: string;
  /** Seconds after which a RATE_LIMITED caller may retry. */
  readonly retryAfterSeconds: number | undefined;
  /**
   * The input field at fault, for a rule only the domain can check (a wrong
   * current password): sent like a validation error of that field, with
   * `userMessage` as its message ("is not your current password").
   */
  readonly field: string | undefined;

  constructor(
    code: AppErrorCode,
    options: {
      message?: string;
      userMessage: string;
      cause?: unknown;
      retryAfterSeconds?: number;
      field?: string;
    },
  ) {
    super(
      options.message ?? (options.field ? `${options.field}: ${options.userMessage}` : options.userMessage),
      {
        cause: options.cause,
      },
    );
    this.name = "AppError";
    this.code = code;
    this.userMessage = options.userMessage;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.field = options.field;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
