// Every error the server answers itself (its own routes, hooks, Fastify's
// body parsing, unknown routes) goes out here, through the API's one
// `answerForError`: tRPC's envelope under /trpc, the REST shape elsewhere.
import { answerForError, appRouter, restErrorBody } from "@tapfleet/api";
import { AppError, APP_ERROR_CODES, isAppError } from "@tapfleet/core";
import { getTRPCErrorShape, TRPCError } from "@trpc/server";
import type { FastifyReply, FastifyRequest } from "fastify";

const TRPC_PATH = /^\/trpc\/([^?]+)/;

/**
 * Errors Fastify raises itself that need our own words, as the AppError they
 * stand for; anything else is returned as it is (an AppError, another 4xx of
 * the HTTP stack, which `answerForError` answers with its own status, or an
 * unexpected error: a 500).
 */
export function fromFastifyError(
  error: Error & { statusCode?: number; code?: string },
  options: { bodyLimit: number },
): unknown {
  if (isAppError(error)) return error;
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return new AppError("PAYLOAD_TOO_LARGE", {
      userMessage: `Request body is larger than the limit of ${options.bodyLimit} bytes.`,
    });
  }
  if (error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError) {
    return new AppError("INVALID_INPUT", { userMessage: `Request body is not valid JSON: ${error.message}` });
  }
  return error;
}

/** Answers `error` in the shape the caller reads: tRPC's under /trpc, the REST one elsewhere. */
export async function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): Promise<void> {
  const answer = answerForError(error);
  if (answer.status >= 500) request.log.error({ err: error }, "request failed");
  if (answer.retryAfterSeconds !== undefined)
    void reply.header("retry-after", String(answer.retryAfterSeconds));
  const trpcPath = TRPC_PATH.exec(request.url)?.[1];
  if (trpcPath === undefined) {
    await reply.status(answer.status).send(restErrorBody(answer, request.id));
    return;
  }
  const trpcError =
    error instanceof TRPCError
      ? error
      : new TRPCError({
          code: APP_ERROR_CODES[answer.code].trpc,
          message: answer.message,
          // The error itself, so that tRPC's formatter reaches the same answer (and status).
          cause: error instanceof Error ? error : new AppError(answer.code, { userMessage: answer.message }),
        });
  const shape = getTRPCErrorShape({
    config: appRouter._def._config,
    error: trpcError,
    type: "unknown",
    path: decodeURIComponent(trpcPath),
    input: undefined,
    ctx: undefined,
  });
  await reply.status(answer.status).send({ error: shape });
}
