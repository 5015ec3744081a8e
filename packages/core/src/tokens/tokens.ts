import type { Db } from "@tapfleet/db";
import type { Actor, AuthenticatedActor } from "../actor.ts";
import { generateSecret, hashSecret } from "../crypto.ts";
import { AppError } from "../errors.ts";
import { roleAtLeast, type Role } from "../roles.ts";

/** Every API token starts with this, so leaked tokens are recognisable by secret scanners. */
export const TOKEN_PREFIX = "tfk_";
const TOKEN_PATTERN = /^tfk_[A-Za-z0-9_-]{43}$/;

export interface ApiTokenView {
  id: string;
  name: string;
  /** The role the token was created with. */
  role: Role;
  /** The role it acts with now: `role`, capped by its owner's current role. */
  effectiveRole: Role;
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdBy: { id: string; username: string };
}

const include = { createdBy: { select: { id: true, username: true, role: true } } } as const;

type StoredToken = Omit<ApiTokenView, "effectiveRole" | "createdBy"> & {
  createdBy: { id: string; username: string; role: Role };
};

/** Picks the public fields from a stored token (which also holds its hash). */
function toView(token: StoredToken): ApiTokenView {
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    effectiveRole: effectiveTokenRole({ tokenRole: token.role, ownerRole: token.createdBy.role }),
    prefix: token.prefix,
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
    revokedAt: token.revokedAt,
    createdBy: { id: token.createdBy.id, username: token.createdBy.username },
  };
}

/**
 * Creates an API token for a user: the signed-in user, or the owner of the
 * token making the call (a CI pipeline minting a short-lived token). The new
 * token's role may not exceed the creator's current, effective role.
 * Returns the secret, which is never stored and never shown again.
 */
export async function createApiToken(options: {
  db: Db;
  creator: AuthenticatedActor;
  name: string;
  role: Role;
  expiresAt?: Date | null | undefined;
  now?: Date;
}): Promise<{ token: ApiTokenView; secret: string }> {
  const now = options.now ?? new Date();
  const { creator } = options;
  if (!roleAtLeast(creator.role, options.role)) {
    throw new AppError("FORBIDDEN", {
      userMessage:
        creator.type === "token"
          ? `${withArticle(creator.role)} token cannot create a token with the ${options.role} role.`
          : `${withArticle(creator.role)} cannot create a token with the ${options.role} role.`,
    });
  }
  if (options.expiresAt && options.expiresAt <= now) {
    throw new AppError("INVALID_INPUT", { userMessage: "expiresAt: the expiry must be in the future." });
  }
  const secret = TOKEN_PREFIX + generateSecret();
  const token = await options.db.apiToken.create({
    data: {
      name: options.name.trim(),
      role: options.role,
      tokenHash: hashSecret(secret),
      prefix: secret.slice(0, TOKEN_PREFIX.length + 6),
      createdById: creator.type === "user" ? creator.id : creator.ownerId,
      createdAt: now,
      expiresAt: options.expiresAt ?? null,
    },
    include,
  });
  return { token: toView(token), secret };
}

const withArticle = (role: Role) => `${/^[aeiou]/.test(role) ? "An" : "A"} ${role}`;

/** Admins see every token; everyone else sees their own. */
export async function listApiTokens(options: { db: Db; actor: AuthenticatedActor }): Promise<ApiTokenView[]> {
  const ownerId = options.actor.type === "user" ? options.actor.id : options.actor.ownerId;
  const tokens = await options.db.apiToken.findMany({
    where: options.actor.role === "admin" ? {} : { createdById: ownerId },
    orderBy: { createdAt: "desc" },
    include,
  });
  return tokens.map(toView);
}

export async function revokeApiToken(options: {
  db: Db;
  actor: AuthenticatedActor;
  id: string;
  now?: Date;
}): Promise<ApiTokenView> {
  const { actor } = options;
  const ownerId = actor.type === "user" ? actor.id : actor.ownerId;
  const token = await options.db.apiToken.findUnique({ where: { id: options.id }, include });
  // Someone else's token is "not found" to a non-admin: its existence is not theirs to know.
  if (!token || (actor.role !== "admin" && token.createdById !== ownerId)) {
    throw new AppError("NOT_FOUND", { userMessage: "No such token." });
  }
  // A leaked low-role token must not be able to lock its owner out of stronger
  // tokens. A signed-in person may always revoke their own tokens: a demoted
  // user may hold tokens above their current role, and revoking only takes rights away.
  if (actor.type === "token" && !roleAtLeast(actor.role, token.role)) {
    throw new AppError("FORBIDDEN", {
      userMessage: `A ${actor.role} token cannot revoke a token with the ${token.role} role.`,
    });
  }
  if (token.revokedAt) return toView(token);
  const revoked = await options.db.apiToken.update({
    where: { id: token.id },
    data: { revokedAt: options.now ?? new Date() },
    include,
  });
  return toView(revoked);
}

/**
 * The role a token acts with: its own role, but never more than its owner holds
 * now, so demoting a user demotes their tokens at once (and promoting them back
 * gives the tokens back no more than they were created with).
 */
export function effectiveTokenRole(options: { tokenRole: Role; ownerRole: Role }): Role {
  return roleAtLeast(options.ownerRole, options.tokenRole) ? options.tokenRole : options.ownerRole;
}

/**
 * The actor behind a bearer token, read afresh on every request. Throws
 * UNAUTHENTICATED with a message that says what is wrong (malformed, unknown,
 * revoked, expired, owner disabled). A deleted owner's tokens are deleted with them.
 */
export async function resolveApiToken(options: {
  db: Db;
  bearer: string;
  now?: Date;
}): Promise<Extract<Actor, { type: "token" }>> {
  const now = options.now ?? new Date();
  if (!TOKEN_PATTERN.test(options.bearer)) {
    throw new AppError("UNAUTHENTICATED", {
      userMessage: `Malformed API token: expected "${TOKEN_PREFIX}" followed by 43 URL-safe characters.`,
    });
  }
  const token = await options.db.apiToken.findUnique({
    where: { tokenHash: hashSecret(options.bearer) },
    include: { createdBy: { select: { disabledAt: true, role: true } } },
  });
  if (!token) throw new AppError("UNAUTHENTICATED", { userMessage: "Unknown API token." });
  if (token.revokedAt)
    throw new AppError("UNAUTHENTICATED", { userMessage: "This API token has been revoked." });
  if (token.expiresAt && token.expiresAt <= now) {
    throw new AppError("UNAUTHENTICATED", {
      userMessage: `This API token expired at ${token.expiresAt.toISOString()}.`,
    });
  }
  if (token.createdBy.disabledAt) {
    throw new AppError("UNAUTHENTICATED", { userMessage: "This API token's owner is disabled." });
  }
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > 60_000) {
    await options.db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
  }
  return {
    type: "token",
    id: token.id,
    name: token.name,
    role: effectiveTokenRole({ tokenRole: token.role, ownerRole: token.createdBy.role }),
    ownerId: token.createdById,
  };
}
