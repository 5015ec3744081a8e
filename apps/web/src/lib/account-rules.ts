// The same account rules the server enforces, checked before sending so people get immediate,
// specific feedback. The server stays the authority: its field errors are shown too.
import { PASSWORD_MIN_LENGTH, ZPasswordSchema } from "@tapfleet/api/password-rule";

export const usernamePattern = /^[a-z0-9._-]+$/;
export const minPasswordLength = PASSWORD_MIN_LENGTH;

export function validateUsername(username: string): string | null {
  if (username.length < 3) return "Use at least 3 characters.";
  if (username.length > 64) return "Use at most 64 characters.";
  if (!usernamePattern.test(username))
    return "Use lowercase letters, digits, dots, underscores or hyphens only.";
  return null;
}

/**
 * The server's own password rule (length, then zxcvbn's strength estimate), as a sentence about
 * the password: "Password is too easy to guess: …". Null when it is accepted.
 */
export function validatePassword(password: string): string | null {
  const result = ZPasswordSchema.safeParse(password);
  const message = result.success ? undefined : result.error.issues[0]?.message;
  return message ? passwordMessage(message) : null;
}

/** A password field's error from the server ("is too easy to guess: …") as a sentence. */
export function passwordMessage(message: string): string {
  return `Password ${message}`;
}

export function validateTokenName(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return "Give the token a name, e.g. the pipeline that will use it.";
  if (trimmed.length > 100) return "Use at most 100 characters.";
  return null;
}
