import type { Role } from "./roles.ts";

/** Who is calling: a signed-in user, an API token, or nobody. */
export type Actor =
  | { type: "user"; id: string; name: string; role: Role; sessionId: string }
  | { type: "token"; id: string; name: string; role: Role; ownerId: string }
  | { type: "anonymous" };

export type AuthenticatedActor = Exclude<Actor, { type: "anonymous" }>;

/** Where a request came from, for the audit log and rate limiting. */
export interface RequestOrigin {
  ip: string;
  userAgent?: string | undefined;
}
