import type { Db, User } from "@tapfleet/db";
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
 * Checks a user name and password and opens a session. Failed attempts are
 * counted in the database (so the limit holds across server replicas); over the
 * limit, the attempt is refused with RATE_LIMITED before the password is checked.
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
  const limit = options.rateLimit ?? DEFAULT_LOGIN_RATE_LIMIT;
  const username = options.username.trim().toLowerCase();
  const since = new Date(now.getTime() - limit.windowMs);

  const [byName, byIp] = await Promise.all([
    db.loginAttempt.findMany({
      where: { username, success: false, at: { gt: since } },
      orderBy: { at: "asc" },
      select: { at: true },
    }),
    db.loginAttempt.findMany({
      where: { ip, success: false, at: { gt: since } },
      orderBy: { at: "asc" },
      select: { at: true },
    }),
  ]);
  const over = (attempts: { at: Date }[], max: number) =>
    attempts.length >= max ? attempts[attempts.length - max]!.at.getTime() + limit.windowMs : null;
  const retryAt = Math.max(
    over(byName, limit.maxFailuresPerUsername) ?? 0,
    over(byIp, limit.maxFailuresPerIp) ?? 0,
  );
  if (retryAt > 0) {
    const retryAfterSeconds = Math.max(1, Math.ceil((retryAt - now.getTime()) / 1000));
    throw new AppError("RATE_LIMITED", {
      userMessage: `Too many failed sign-in attempts. Try again in ${retryAfterSeconds} s.`,
      retryAfterSeconds,
    });
  }

  const user = await db.user.findUnique({ where: { username } });
  const ok = user
    ? await verifyPassword(user.passwordHash, options.password)
    : await verifyAgainstDummy(options.password);
  await db.loginAttempt.create({ data: { username, ip, success: ok && !user?.disabledAt, at: now } });
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
