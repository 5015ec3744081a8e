// Writing responses: JSON bodies, Status failures, and the mapping from thrown
// errors to the Status a real API server would send.

import type { ServerResponse } from "node:http";
import { ApiError, internalError, type StatusObject, type StatusReason } from "../errors.ts";
import { PatchError } from "../patch/index.ts";

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    "Content-Type": "application/json",
    "Cache-Control": "no-cache, private",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * A failure Status for reasons errors.ts has no helper for (415, 413, 405 on a path).
 * NOTE(kube-sim-wire): need `UnsupportedMediaType`, `RequestEntityTooLarge` and `ServiceUnavailable` in
 * errors.ts's StatusReason union; cast here rather than edit that file.
 */
export function failure(
  code: number,
  reason: string,
  message: string,
  details?: StatusObject["details"],
): ApiError {
  const status: StatusObject = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: reason as StatusReason,
    ...(details ? { details } : {}),
    code,
  };
  return new ApiError(status);
}

/** 405 for a method the path does not support (the generic apiserver text). */
export function methodNotAllowed(): ApiError {
  return failure(
    405,
    "MethodNotAllowed",
    "the server does not allow this method on the requested resource",
    {},
  );
}

/** Converts anything thrown while handling a request into an ApiError. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof PatchError) return failure(400, "BadRequest", error.message);
  const message = error instanceof Error ? error.message : String(error);
  return internalError(message);
}

export function sendError(res: ServerResponse, error: unknown): void {
  const apiError = toApiError(error);
  const headers: Record<string, string> = {};
  const retryAfter = apiError.status.details?.retryAfterSeconds;
  if (retryAfter !== undefined) headers["Retry-After"] = String(retryAfter);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, apiError.status.code, apiError.status, headers);
}
