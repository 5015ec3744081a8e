// The one authorization rule: who may call what. Every surface (tRPC, REST,
// the live streams, the binary downloads) asks here and nowhere else.
import type { Db } from "@tapfleet/db";
import type { Actor, AuthenticatedActor } from "../actor.ts";
import { AppError, SIGN_IN_MESSAGE } from "../errors.ts";
import { roleAtLeast, type Role } from "../roles.ts";

/**
 * The caller, when it may act with `role`. Throws UNAUTHENTICATED when
 * credentials were refused (`authError`) or none were sent, and FORBIDDEN
 * when the caller's role is smaller than `role`.
 */
export function authorize(options: {
  actor: Actor;
  role: Role;
  /** Credentials that were sent and refused (unknown, expired, revoked token…). */
  authError?: AppError | undefined;
}): AuthenticatedActor {
  const { actor, role } = options;
  if (options.authError) throw options.authError;
  if (actor.type === "anonymous") throw new AppError("UNAUTHENTICATED", { userMessage: SIGN_IN_MESSAGE });
  if (!roleAtLeast(actor.role, role)) {
    throw new AppError("FORBIDDEN", { userMessage: `This needs the ${role} role; you have ${actor.role}.` });
  }
  return actor;
}

/** Who the caller is, as the API shows it: the signed-in user as stored now, or the token. */
export async function describeCaller(options: { db: Db; actor: Actor }): Promise<{
  user: { id: string; username: string; displayName: string | null; role: Role } | null;
  token?: { id: string; name: string; role: Role } | null;
}> {
  const { actor } = options;
  if (actor.type === "user") {
    const user = await options.db.user.findUnique({ where: { id: actor.id } });
    if (!user) return { user: null };
    return { user: { id: user.id, username: user.username, displayName: user.displayName, role: user.role } };
  }
  if (actor.type === "token")
    return { user: null, token: { id: actor.id, name: actor.name, role: actor.role } };
  return { user: null };
}
