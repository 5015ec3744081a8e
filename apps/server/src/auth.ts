// Who is calling: an API token in `Authorization: Bearer …`, or a session cookie.
import {
  AppError,
  authorize,
  resolveApiToken,
  resolveSession,
  type Actor,
  type AuthenticatedActor,
  type Role,
  type SessionPolicy,
} from "@tapfleet/core";
import type { Db } from "@tapfleet/db";
import type { FastifyRequest } from "fastify";

export const SESSION_COOKIE = "tapfleet_session";

export async function authenticateRequest(options: {
  db: Db;
  request: FastifyRequest;
  sessionPolicy: SessionPolicy;
}): Promise<{ actor: Actor; authError: AppError | undefined }> {
  const { request, db } = options;
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      return {
        actor: { type: "anonymous" },
        authError: new AppError("UNAUTHENTICATED", {
          userMessage: 'Malformed Authorization header: expected "Bearer <token>".',
        }),
      };
    }
    try {
      return { actor: await resolveApiToken({ db, bearer: match[1]! }), authError: undefined };
    } catch (error) {
      if (error instanceof AppError) return { actor: { type: "anonymous" }, authError: error };
      throw error;
    }
  }
  const cookie = request.cookies[SESSION_COOKIE];
  if (cookie) {
    const actor = await resolveSession({ db, cookieValue: cookie, policy: options.sessionPolicy });
    if (actor) return { actor, authError: undefined };
  }
  return { actor: { type: "anonymous" }, authError: undefined };
}

/**
 * The caller of a route outside tRPC (downloads, the live-stream gate), when
 * it may act with `role`; throws the refusal (UNAUTHENTICATED, FORBIDDEN) otherwise.
 */
export async function authorizeRequest(options: {
  db: Db;
  request: FastifyRequest;
  sessionPolicy: SessionPolicy;
  role: Role;
}): Promise<AuthenticatedActor> {
  const { actor, authError } = await authenticateRequest(options);
  return authorize({ actor, authError, role: options.role });
}
