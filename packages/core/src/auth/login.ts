import type { Db, User } from "@tapfleet/db";
import { normalizeUsername } from "@tapfleet/sensor/accounts";
import { AppError } from "../errors.ts";
import { verifyAgainstDummy, verifyPassword } from "./passwords.ts";
import { createSession, type SessionPolicy } from "./sessions.ts";

export interface LoginRateLimit {
  windowMs: number;
  /** Failed attempts allowed per user name within the window. */
  maxFailuresPerUsername: number;
  /** Failed attempts allowed per client address within the window. */
  maxFailuresPerIp: number;
}

export const DEFAULT_LOGIN_RATE_LIMIT: LoginRateLimit = {
  windowMs: 15 * 60_000,
  maxFailuresPerUsername: 5,
  maxFailuresPerIp: 30,
};

/**
 * Checks a user name and password and opens a session.
 *
 * Every attempt is written to the database before its password is checked,
 * and then the attempts already there are counted: over the limit, the attempt
 * is refused with RATE_LIMITED and its password is never checked. Because each
 * attempt counts every attempt stored before it (in flight ones included, as
 * failures until they succeed), however many arrive at once, on however many
 * replicas, no more than the limit reach the password check.
 */
export async function loginWithPassword(options: {
  db: Db;
  username: string;
  password: string;
  ip: string;
  userAgent?: string | undefined;
  now?: Date;
  rateLimit?: LoginRateLimit;
  sessionPolicy?: SessionPolicy;
}): Promise<{ user: User; cookieValue: string; expiresAt: Date }> {
  const { db, ip } = options;
  const now = options.now ?? new Date();
  const username = normalizeUsername(options.username);
  const attempt = await countPasswordAttempt({
    db,
    username,
    ip,
    now,
    rateLimit: options.rateLimit,
    refusal: "Too many failed sign-in attempts.",
  });

  const user = await db.user.findUnique({ where: { username } });
  const ok = user
    ? await verifyPassword(user.passwordHash, options.password)
    : await verifyAgainstDummy(options.password);
  if (ok && !user?.disabledAt) await attempt.succeeded();
  if (!user || !ok) {
    throw new AppError("INVALID_CREDENTIALS", { userMessage: "Wrong user name or password." });
  }
  if (user.disabledAt) {
    throw new AppError("INVALID_CREDENTIALS", {
      message: `user ${username} is disabled`,
      userMessage: "This account is disabled. Ask an administrator to enable it.",
    });
  }
  const session = await createSession({
    db,
    userId: user.id,
    ip,
    userAgent: options.userAgent,
    now,
    ...(options.sessionPolicy ? { policy: options.sessionPolicy } : {}),
  });
  return { user, ...session };
}

/**
 * Counts one password check against the sign-in attempt limit, before the
 * password is checked: the attempt is written (as a failure) and committed on
 * its own, then the attempts already there are counted, per user name and per
 * address. Over the limit it is removed again and refused with RATE_LIMITED
 * (`refusal` plus when to retry). Otherwise the caller checks the password and
 * calls `succeeded()` when it was right. Every place that checks a password
 * (signing in, changing your own password) counts here, so together they
 * allow no more guesses than the limit.
 */
export async function countPasswordAttempt(options: {
  db: Db;
  /** Lower-case, as stored. */
  username: string;
  ip: string;
  now?: Date;
  rateLimit?: LoginRateLimit | undefined;
  /** The first sentence of the refusal. */
  refusal: string;
}): Promise<{ succeeded(): Promise<void> }> {
  const { db, ip, username } = options;
  const now = options.now ?? new Date();
  const limit = options.rateLimit ?? DEFAULT_LOGIN_RATE_LIMIT;
  const since = new Date(now.getTime() - limit.windowMs);

  // Committed on its own before counting, so every later attempt sees it.
  const attempt = await db.loginAttempt.create({
    data: { username, ip, success: false, at: now },
    select: { id: true },
  });
  const others = { success: false, at: { gt: since }, id: { not: attempt.id } } as const;
  const [byName, byIp] = await Promise.all([
    db.loginAttempt.findMany({
      where: { ...others, username },
      orderBy: { at: "asc" },
      select: { at: true },
    }),
    db.loginAttempt.findMany({ where: { ...others, ip }, orderBy: { at: "asc" }, select: { at: true } }),
  ]);
  const over = (attempts: { at: Date }[], max: number) =>
    attempts.length >= max ? attempts[attempts.length - max]!.at.getTime() + limit.windowMs : null;
  const retryAt = Math.max(
    over(byName, limit.maxFailuresPerUsername) ?? 0,
    over(byIp, limit.maxFailuresPerIp) ?? 0,
  );
  if (retryAt > 0) {
    // A refused attempt checked no password, so it does not lengthen the lock-out.
    await db.loginAttempt.deleteMany({ where: { id: attempt.id } });
    const retryAfterSeconds = Math.max(1, Math.ceil((retryAt - now.getTime()) / 1000));
    throw new AppError("RATE_LIMITED", {
      userMessage: `${options.refusal} Try again in ${retryAfterSeconds} s.`,
      retryAfterSeconds,
    });
  }
  return {
    async succeeded() {
      await db.loginAttempt.update({ where: { id: attempt.id }, data: { success: true } });
    },
  };
}

/** Drops login attempts older than the rate-limit window. */
export async function purgeOldLoginAttempts(options: {
  db: Db;
  now?: Date;
  rateLimit?: LoginRateLimit;
}): Promise<number> {
  const now = options.now ?? new Date();
  const limit = options.rateLimit ?? DEFAULT_LOGIN_RATE_LIMIT;
  const result = await options.db.loginAttempt.deleteMany({
    where: { at: { lt: new Date(now.getTime() - limit.windowMs) } },
  });
  return result.count;
}
