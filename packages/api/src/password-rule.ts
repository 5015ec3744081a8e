// The password rule, in one place: the API enforces it on every password it
// accepts (users.create, users.setPassword, users.changeMyPassword), the server
// on TAPFLEET_ADMIN_PASSWORD, and the dashboard's forms check it before sending.
// Strength is estimated by zxcvbn (dictionaries of common passwords, words and
// names, keyboard patterns, repeats, sequences, dates), not by character classes.
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
 * Why `password` is too easy to guess, as a sentence from the checker's
 * feedback, or null when it is strong enough. Length is checked by the schema.
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

export const ZPasswordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`)
  .superRefine((password, context) => {
    const weakness = describeWeakPassword(password);
    if (weakness) context.addIssue({ code: "custom", message: weakness });
  });

/** Changing your own password: the current one proves it is you. */
export const ZChangeMyPasswordInputSchema = z.object({
  currentPassword: z
    .string()
    .min(1, "is required")
    .max(PASSWORD_MAX_LENGTH, "must be at most 256 characters"),
  newPassword: ZPasswordSchema,
});
