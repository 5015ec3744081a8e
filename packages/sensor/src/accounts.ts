// The account rules, each defined once: usernames, cluster ids, roles and the password rule.
// The API validates with these schemas, core ranks roles and normalises usernames with them,
// the server checks TAPFLEET_ADMIN_PASSWORD with them, and the dashboard's forms run the very
// same schemas before sending. Messages are about the value ("must be at least 3 characters"),
// so each caller can put the field's name in front.
//
// The agent never imports this subpath: it would pull zxcvbn's dictionaries into its bundle.
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary as commonDictionary } from "@zxcvbn-ts/language-common";
import { dictionary as englishDictionary, translations } from "@zxcvbn-ts/language-en";
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

// ---- passwords

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;
/** zxcvbn's score from 0 to 4; 3 is "safely unguessable" (about 10^10 guesses). */
export const PASSWORD_MIN_SCORE = 3;

// Building the matcher loads the dictionaries: do it on first use, not at import.
let checker: ZxcvbnFactory | undefined;

/**
 * Why `password` is too easy to guess, as a sentence from the checker's feedback, or null when
 * it is strong enough. Strength is estimated by zxcvbn (dictionaries of common passwords, words
 * and names, keyboard patterns, repeats, sequences, dates), not by character classes. Length is
 * checked by the schema.
 */
export function describeWeakPassword(password: string): string | null {
  checker ??= new ZxcvbnFactory({
    dictionary: { ...commonDictionary, ...englishDictionary },
    graphs: adjacencyGraphs,
    translations,
  });
  const result = checker.check(password);
  if (result.score >= PASSWORD_MIN_SCORE) return null;
  const advice = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(" ");
  return `is too easy to guess${advice ? `: ${advice}` : "; add more words that are less common."}`;
}

/** Every password Tapfleet accepts: 12–256 characters and hard to guess. */
export const ZPasswordSchema = z
  .string()
  // A length error is the whole answer: no strength advice about a password that cannot be used.
  .min(PASSWORD_MIN_LENGTH, { message: `must be at least ${PASSWORD_MIN_LENGTH} characters`, abort: true })
  .max(PASSWORD_MAX_LENGTH, { message: `must be at most ${PASSWORD_MAX_LENGTH} characters`, abort: true })
  .superRefine((password, context) => {
    const weakness = describeWeakPassword(password);
    if (weakness) context.addIssue({ code: "custom", message: weakness });
  });

/** Changing your own password: the current one proves it is you. */
export const ZChangeMyPasswordInputSchema = z.object({
  currentPassword: z
    .string()
    .min(1, "is required")
    .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`),
  newPassword: ZPasswordSchema,
});
