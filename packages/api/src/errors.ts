// The one way an error becomes an answer: its status (from the table in
// core's errors.ts), its code and what the caller is told. tRPC's error
// formatter, the REST surface and the server's own routes all go through
// `answerForError`; REST callers get it as `ZErrorResponseSchema`.
import {
  APP_ERROR_CODE_NAMES,
  APP_ERROR_CODES,
  appErrorCodeForStatus,
  isAppError,
  type AppError,
  type AppErrorCode,
} from "@tapfleet/core";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { z, ZodError } from "zod";

/** What the caller is told about an error, whichever surface it called. */
export interface ErrorAnswer {
  status: number;
  code: AppErrorCode;
  /** Safe to show; names the field at fault where there is one. */
  message: string;
  /** For input errors: the message(s) for each field at fault. */
  fieldErrors?: Record<string, string[]> | undefined;
  /** For RATE_LIMITED: seconds until a retry may succeed. */
  retryAfterSeconds?: number | undefined;
}

const INTERNAL_MESSAGE = "Internal server error.";

function answerForAppError(error: AppError): ErrorAnswer {
  return {
    status: APP_ERROR_CODES[error.code].http,
    code: error.code,
    message: error.field ? `${error.field}: ${error.userMessage}` : error.userMessage,
    fieldErrors: error.field ? { [error.field]: [error.userMessage] } : undefined,
    retryAfterSeconds: error.retryAfterSeconds,
  };
}

function answerForZodError(error: ZodError): ErrorAnswer {
  const { fieldErrors } = z.flattenError(error);
  return {
    status: APP_ERROR_CODES.INVALID_INPUT.http,
    code: "INVALID_INPUT",
    message: describeZodError(error),
    fieldErrors,
  };
}

/** The status of a 4xx error the HTTP stack raised (Fastify and its plugins set `statusCode`). */
function httpClientErrorStatus(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === "number" && status >= 400 && status < 500 ? status : undefined;
}

/** A 4xx from the HTTP stack keeps its status: a 405 or 406 is not a 400. */
function answerForHttpClientError(error: Error, status: number): ErrorAnswer {
  return { status, code: appErrorCodeForStatus(status), message: error.message };
}

/** "username: too short; role: invalid option" — names each field and what is wrong. */
function describeZodError(error: ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "input"}: ${issue.message}`)
    .join("; ");
}

/**
 * The answer for any error: an AppError says it all; a validation error
 * names its fields; a 4xx raised by the framework (tRPC's or the HTTP
 * stack's) keeps its status; anything else is a 500 whose detail stays in
 * the server log.
 */
export function answerForError(error: unknown): ErrorAnswer {
  if (isAppError(error)) return answerForAppError(error);
  if (error instanceof ZodError) return answerForZodError(error);
  const httpStatus = httpClientErrorStatus(error);
  if (httpStatus !== undefined) return answerForHttpClientError(error as Error, httpStatus);
  if (error instanceof TRPCError) {
    if (isAppError(error.cause)) return answerForAppError(error.cause);
    if (error.cause instanceof ZodError) return answerForZodError(error.cause);
    // The server hands an HTTP-stack refusal on as the cause; a procedure's failure is a 500 whatever its cause.
    const causeStatus =
      error.code === "INTERNAL_SERVER_ERROR" ? undefined : httpClientErrorStatus(error.cause);
    if (causeStatus !== undefined) return answerForHttpClientError(error.cause as Error, causeStatus);
    const status = getHTTPStatusCodeFromError(error);
    if (status >= 500) return { status: 500, code: "INTERNAL", message: INTERNAL_MESSAGE };
    const code =
      APP_ERROR_CODE_NAMES.find((name) => APP_ERROR_CODES[name].trpc === error.code) ??
      appErrorCodeForStatus(status);
    const message =
      error.code === "PARSE_ERROR" ? `Request body is not valid JSON: ${error.message}` : error.message;
    return { status, code, message };
  }
  return { status: 500, code: "INTERNAL", message: INTERNAL_MESSAGE };
}

/** The body of every REST error answer. */
export const ZErrorResponseSchema = z
  .object({
    error: z.object({
      status: z.number().int().describe("The HTTP status, repeated for logs and proxies that drop it."),
      code: z.enum(APP_ERROR_CODE_NAMES).describe("What went wrong; clients may rely on these strings."),
      message: z.string().describe("What to tell a person; names the field at fault where there is one."),
      requestId: z.string().describe("The request's id (also in the x-request-id header), for the logs."),
      fieldErrors: z
        .record(z.string(), z.array(z.string()))
        .optional()
        .describe("For INVALID_INPUT: the messages for each input field at fault."),
      retryAfterSeconds: z
        .number()
        .int()
        .optional()
        .describe("For RATE_LIMITED: seconds after which a retry may succeed."),
    }),
  })
  .describe("An error answer: the same shape for every REST route.");
export type ErrorResponse = z.infer<typeof ZErrorResponseSchema>;

export function restErrorBody(answer: ErrorAnswer, requestId: string): ErrorResponse {
  return {
    error: {
      status: answer.status,
      code: answer.code,
      message: answer.message,
      requestId,
      ...(answer.fieldErrors ? { fieldErrors: answer.fieldErrors } : {}),
      ...(answer.retryAfterSeconds !== undefined ? { retryAfterSeconds: answer.retryAfterSeconds } : {}),
    },
  };
}

// ---- the OpenAPI document -------------------------------------------------

interface OpenApiResponse {
  description?: string;
  content?: Record<string, { schema: unknown }>;
}
interface OpenApiDocument {
  paths?: Record<string, Record<string, { responses?: Record<string, OpenApiResponse> } | undefined>>;
  components?: { schemas?: Record<string, unknown>; responses?: Record<string, unknown> };
}

const ERROR_REF = { $ref: "#/components/schemas/Error" };

/**
 * Declares the one error shape in a generated OpenAPI document: an `Error`
 * schema, referenced by every error response of every operation, and a
 * `default` response for the statuses an operation does not list.
 */
export function describeErrorsInOpenApi<T extends object>(document: T): T {
  const doc = document as OpenApiDocument;
  const { $schema: _dialect, ...errorSchema } = z.toJSONSchema(ZErrorResponseSchema) as Record<
    string,
    unknown
  >;
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, Error: errorSchema } };
  for (const operations of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      if (!operation?.responses) continue;
      for (const [status, response] of Object.entries(operation.responses)) {
        if (status === "default" || Number(status) >= 400) {
          response.content = { "application/json": { schema: ERROR_REF } };
        }
      }
      operation.responses.default ??= {
        description: "Any other error, in the same shape",
        content: { "application/json": { schema: ERROR_REF } },
      };
    }
  }
  return document;
}
