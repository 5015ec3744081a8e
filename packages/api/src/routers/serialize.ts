// Core returns Dates; the API sends ISO strings so that tRPC, REST and the
// dashboard all see the same JSON without a transformer.
import type { ApiTokenView, UserView } from "@tapfleet/core";
import type { TokenOutput, UserOutput } from "../schemas.ts";

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

export function serializeUser(user: UserView): UserOutput {
  return { ...user, createdAt: user.createdAt.toISOString() };
}

export function serializeToken(token: ApiTokenView): TokenOutput {
  return {
    ...token,
    createdAt: token.createdAt.toISOString(),
    expiresAt: iso(token.expiresAt),
    lastUsedAt: iso(token.lastUsedAt),
    revokedAt: iso(token.revokedAt),
  };
}

export { serializeAuditEvent } from "@tapfleet/core";
