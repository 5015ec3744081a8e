// The account rules, each defined once: usernames, cluster ids and roles (the password rule is
// in ./passwords.ts). The API validates with these schemas, core ranks roles and normalises
// usernames with them, and the dashboard's forms run the very same schemas before sending.
// Messages are about the value ("must be at least 3 characters"), so each caller can put the
// field's name in front.
import { z } from "zod";

// ---- usernames

export const USERNAME_MIN_LENGTH = 3;
export const USERNAME_MAX_LENGTH = 64;

/**
 * A username as it is stored and compared: usernames are case-insensitive ("Alice" and "alice"
 * are one account), so they are kept in lower case and looked up the same way.
 */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** A new account's name: letters of either case are accepted and stored in lower case. */
export const ZUsernameSchema = z
  .string()
  .trim()
  .min(USERNAME_MIN_LENGTH, `must be at least ${USERNAME_MIN_LENGTH} characters`)
  .max(USERNAME_MAX_LENGTH, `must be at most ${USERNAME_MAX_LENGTH} characters`)
  .regex(/^[a-zA-Z0-9._-]+$/, "may contain only letters, digits, '.', '_' and '-'")
  .toLowerCase();

// ---- cluster ids

export const CLUSTER_ID_MAX_LENGTH = 63;

/** Cluster ids become Kubernetes names (the agent's Secret) and URL segments: a DNS label. */
export const ZClusterIdSchema = z
  .string()
  .min(1, "is required")
  .max(CLUSTER_ID_MAX_LENGTH, `must be at most ${CLUSTER_ID_MAX_LENGTH} characters`)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit",
  );

// ---- roles

/** Ordered: each role can do everything the one before it can. */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];
export const ZRoleSchema = z.enum(ROLES);

/** True when `role` grants at least what `required` grants. */
export function roleAtLeast(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}
