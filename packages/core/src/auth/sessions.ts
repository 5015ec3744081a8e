import type { Db } from "@tapfleet/db";
import type { Actor } from "../actor.ts";
import { generateSecret, hashSecret } from "../crypto.ts";

export interface SessionPolicy {
  /** Absolute lifetime of a session. */
  ttlMs: number;
  /** A session unused for this long expires even before its absolute lifetime. */
  idleTimeoutMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { ttlMs: 12 * 3600_000, idleTimeoutMs: 2 * 3600_000 };

/** Creates a session and returns the cookie value (shown to nobody else, stored hashed). */
export async function createSession(options: {
  db: Db;
  userId: string;
  ip: string;
  userAgent?: string | undefined;
  now?: Date;
  policy?: SessionPolicy;
}): Promise<{ cookieValue: string; expiresAt: Date }> {
  const now = options.now ?? new Date();
  const policy = options.policy ?? DEFAULT_SESSION_POLICY;
  const cookieValue = generateSecret();
  const expiresAt = new Date(now.getTime() + policy.ttlMs);
  await options.db.session.create({
    data: {
      tokenHash: hashSecret(cookieValue),
      userId: options.userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
      ip: options.ip,
      userAgent: options.userAgent?.slice(0, 512) ?? null,
    },
  });
  return { cookieValue, expiresAt };
}

/**
 * The user behind a session cookie, or null when the cookie is unknown,
 * expired (absolute or idle) or belongs to a disabled user.
 */
export async function resolveSession(options: {
  db: Db;
  cookieValue: string;
  now?: Date;
  policy?: SessionPolicy;
}): Promise<Extract<Actor, { type: "user" }> | null> {
  const now = options.now ?? new Date();
  const policy = options.policy ?? DEFAULT_SESSION_POLICY;
  if (!/^[A-Za-z0-9_-]{43}$/.test(options.cookieValue)) return null;
  const session = await options.db.session.findUnique({
    where: { tokenHash: hashSecret(options.cookieValue) },
    include: { user: true },
  });
  if (!session) return null;
  const idleExpired = now.getTime() - session.lastSeenAt.getTime() > policy.idleTimeoutMs;
  if (session.expiresAt <= now || idleExpired || session.user.disabledAt) {
    await options.db.session.deleteMany({ where: { id: session.id } });
    return null;
  }
  // Touch at most once a minute: every request writing a row would be waste.
  if (now.getTime() - session.lastSeenAt.getTime() > 60_000) {
    await options.db.session.update({ where: { id: session.id }, data: { lastSeenAt: now } });
  }
  return {
    type: "user",
    id: session.user.id,
    name: session.user.username,
    role: session.user.role,
    sessionId: session.id,
  };
}

export async function deleteSession(options: { db: Db; sessionId: string }): Promise<void> {
  await options.db.session.deleteMany({ where: { id: options.sessionId } });
}

/** Removes expired sessions; run periodically. Returns how many were removed. */
export async function purgeExpiredSessions(options: {
  db: Db;
  now?: Date;
  policy?: SessionPolicy;
}): Promise<number> {
  const now = options.now ?? new Date();
  const policy = options.policy ?? DEFAULT_SESSION_POLICY;
  const result = await options.db.session.deleteMany({
    where: {
      OR: [
        { expiresAt: { lte: now } },
        { lastSeenAt: { lt: new Date(now.getTime() - policy.idleTimeoutMs) } },
      ],
    },
  });
  return result.count;
}
