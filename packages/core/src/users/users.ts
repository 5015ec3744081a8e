import { randomBytes } from "node:crypto";
import { Prisma, type Db, type User } from "@tapfleet/db";
import { normalizeUsername } from "@tapfleet/sensor/accounts";
import { diffForAudit, type AuditChange } from "../audit/audit.ts";
import { countPasswordAttempt, type LoginRateLimit } from "../auth/login.ts";
import { hashPassword, verifyPassword } from "../auth/passwords.ts";
import type { AuthenticatedActor } from "../actor.ts";
import { AppError } from "../errors.ts";
import type { Role } from "../roles.ts";

export interface UserView {
  id: string;
  username: string;
  displayName: string | null;
  role: Role;
  createdAt: Date;
  disabled: boolean;
}

export function toUserView(user: User): UserView {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    createdAt: user.createdAt,
    disabled: user.disabledAt !== null,
  };
}

export async function listUsers(options: { db: Db }): Promise<UserView[]> {
  const users = await options.db.user.findMany({ orderBy: { username: "asc" } });
  return users.map(toUserView);
}

export async function createUser(options: {
  db: Db;
  username: string;
  displayName?: string | null | undefined;
  role: Role;
  password: string;
}): Promise<UserView> {
  const username = normalizeUsername(options.username);
  try {
    const user = await options.db.user.create({
      data: {
        username,
        displayName: options.displayName?.trim() || null,
        role: options.role,
        passwordHash: await hashPassword(options.password),
      },
    });
    return toUserView(user);
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      throw new AppError("CONFLICT", {
        userMessage: `A user named "${username}" already exists.`,
        cause: error,
      });
    }
    throw error;
  }
}

async function getUserOrThrow(db: Db, id: string): Promise<User> {
  const user = await db.user.findUnique({ where: { id } });
  if (!user) throw new AppError("NOT_FOUND", { userMessage: "No such user." });
  return user;
}

/** Refuses a change that would leave no enabled admin: someone must be able to administer. */
async function assertAnotherAdminRemains(db: Db, userId: string): Promise<void> {
  const others = await db.user.count({ where: { role: "admin", disabledAt: null, id: { not: userId } } });
  if (others === 0) {
    throw new AppError("INVALID_INPUT", {
      userMessage: "This is the last enabled admin; make another user admin first.",
    });
  }
}

/** Changes a user's role, display name or status; returns the user and what changed, for the audit log. */
export async function updateUser(options: {
  db: Db;
  id: string;
  role?: Role | undefined;
  displayName?: string | null | undefined;
  disabled?: boolean | undefined;
  now?: Date;
}): Promise<{ user: UserView; changes: AuditChange[] }> {
  const { db } = options;
  return db.$transaction(async (tx) => {
    const user = await getUserOrThrow(tx as Db, options.id);
    const losesAdmin =
      user.role === "admin" &&
      !user.disabledAt &&
      ((options.role && options.role !== "admin") || options.disabled === true);
    if (losesAdmin) await assertAnotherAdminRemains(tx as Db, user.id);
    const disabledAt =
      options.disabled === undefined
        ? undefined
        : options.disabled
          ? (user.disabledAt ?? options.now ?? new Date())
          : null;
    const updated = await tx.user.update({
      where: { id: user.id },
      data: {
        ...(options.role ? { role: options.role } : {}),
        ...(options.displayName !== undefined ? { displayName: options.displayName?.trim() || null } : {}),
        ...(disabledAt !== undefined ? { disabledAt } : {}),
      },
    });
    // A disabled user is signed out everywhere at once.
    if (options.disabled === true) await tx.session.deleteMany({ where: { userId: user.id } });
    const after = toUserView(updated);
    const changes = diffForAudit(toUserView(user), after, ["role", "displayName", "disabled"]);
    return { user: after, changes };
  });
}

export async function setUserPassword(options: { db: Db; id: string; password: string }): Promise<void> {
  const user = await getUserOrThrow(options.db, options.id);
  const passwordHash = await hashPassword(options.password);
  await options.db.$transaction([
    options.db.user.update({ where: { id: user.id }, data: { passwordHash } }),
    options.db.session.deleteMany({ where: { userId: user.id } }),
  ]);
}

/**
 * A signed-in user changes their own password, proving they know the current
 * one. Their other sessions end; the one that made the change stays. An API
 * token has no password of its own, so a token caller is refused.
 */
export async function changeOwnPassword(options: {
  db: Db;
  /** The caller: a signed-in user, whose session stays signed in. */
  actor: AuthenticatedActor;
  currentPassword: string;
  newPassword: string;
  /** The caller's address: wrong current passwords count against the sign-in limit, as at sign-in. */
  ip: string;
  now?: Date;
  rateLimit?: LoginRateLimit | undefined;
}): Promise<{ otherSessionsEnded: number }> {
  const { actor } = options;
  if (actor.type !== "user") {
    throw new AppError("FORBIDDEN", {
      userMessage: "An API token has no password; sign in as the user to change theirs.",
    });
  }
  const user = await getUserOrThrow(options.db, actor.id);
  // Counted before the check, like a sign-in: a stolen session cannot guess the password here.
  const attempt = await countPasswordAttempt({
    db: options.db,
    username: user.username,
    ip: options.ip,
    ...(options.now ? { now: options.now } : {}),
    rateLimit: options.rateLimit,
    refusal: "Too many wrong passwords for this account.",
  });
  if (!(await verifyPassword(user.passwordHash, options.currentPassword))) {
    throw new AppError("INVALID_INPUT", {
      field: "currentPassword",
      userMessage: "is not your current password",
    });
  }
  await attempt.succeeded();
  if (options.newPassword === options.currentPassword) {
    throw new AppError("INVALID_INPUT", {
      field: "newPassword",
      userMessage: "must differ from your current password",
    });
  }
  const passwordHash = await hashPassword(options.newPassword);
  const [, ended] = await options.db.$transaction([
    options.db.user.update({ where: { id: user.id }, data: { passwordHash } }),
    options.db.session.deleteMany({ where: { userId: user.id, id: { not: actor.sessionId } } }),
  ]);
  return { otherSessionsEnded: ended.count };
}

export async function deleteUser(options: {
  db: Db;
  id: string;
  actingUserId?: string | undefined;
}): Promise<void> {
  if (options.id === options.actingUserId) {
    throw new AppError("INVALID_INPUT", { userMessage: "You cannot delete your own account." });
  }
  await options.db.$transaction(async (tx) => {
    const user = await getUserOrThrow(tx as Db, options.id);
    if (user.role === "admin" && !user.disabledAt) await assertAnotherAdminRemains(tx as Db, user.id);
    await tx.user.delete({ where: { id: user.id } });
  });
}

/**
 * On a database with no users, creates `admin` with the given password or a
 * generated one. Returns the generated password (to print once) or null.
 * Safe to call from several replicas at once: the unique user name decides.
 */
export async function ensureInitialAdmin(options: {
  db: Db;
  password?: string | undefined;
}): Promise<{ created: false } | { created: true; username: string; generatedPassword: string | null }> {
  if ((await options.db.user.count()) > 0) return { created: false };
  const generatedPassword = options.password ? null : randomBytes(18).toString("base64url");
  try {
    await createUser({
      db: options.db,
      username: "admin",
      displayName: "Administrator",
      role: "admin",
      password: options.password ?? generatedPassword!,
    });
  } catch (error) {
    if (error instanceof AppError && error.code === "CONFLICT") return { created: false };
    throw error;
  }
  return { created: true, username: "admin", generatedPassword };
}
