// The password rule, defined once: the API validates with it, the server checks
// TAPFLEET_ADMIN_PASSWORD with it, and the dashboard's password forms run it before sending.
// Messages are about the value ("must be at least 12 characters"), as in ./accounts.ts.
//
// Apart from the account rules because zxcvbn's dictionaries are 1.7 MB of JavaScript: only
// what checks a password imports this subpath (the dashboard's account and user pages, not its
// shell), and the agent never does.
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary as commonDictionary } from "@zxcvbn-ts/language-common";
import { dictionary as englishDictionary, translations } from "@zxcvbn-ts/language-en";
import { z } from "zod";

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
