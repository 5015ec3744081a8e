// The account rules the server enforces, run here before sending so people get immediate,
// specific feedback: the very same zod schemas, from the sensor contract. The server stays the
// authority: its field errors are shown too, phrased the same way.
import {
  PASSWORD_MIN_LENGTH,
  USERNAME_MAX_LENGTH,
  USERNAME_MIN_LENGTH,
  ZPasswordSchema,
  ZUsernameSchema,
  normalizeUsername,
} from "@tapfleet/sensor/accounts";
import type { z } from "zod";

export { normalizeUsername };
export const minPasswordLength = PASSWORD_MIN_LENGTH;
export const usernameLength = { min: USERNAME_MIN_LENGTH, max: USERNAME_MAX_LENGTH };

/** A rule's message about a value ("must be at least 3 characters") as a sentence about a field. */
export function fieldMessage(label: string, message: string): string {
  return `${label} ${message}`;
}

/** The first problem `schema` finds with `value`, as a sentence naming the field, or null. */
export function firstProblem(label: string, schema: z.ZodType, value: unknown): string | null {
  const result = schema.safeParse(value);
  const message = result.success ? undefined : result.error.issues[0]?.message;
  return message ? fieldMessage(label, message) : null;
}

/** The server's username rule: "Username may contain only letters, …". Null when accepted. */
export function validateUsername(username: string): string | null {
  return firstProblem("Username", ZUsernameSchema, username);
}

/**
 * The server's own password rule (length, then zxcvbn's strength estimate), as a sentence about
 * the password: "Password is too easy to guess: …". Null when it is accepted.
 */
export function validatePassword(password: string): string | null {
  return firstProblem("Password", ZPasswordSchema, password);
}

/** A password field's error from the server ("is too easy to guess: …") as a sentence. */
export function passwordMessage(message: string): string {
  return fieldMessage("Password", message);
}

export function validateTokenName(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return "Give the token a name, e.g. the pipeline that will use it.";
  if (trimmed.length > 100) return "Use at most 100 characters.";
  return null;
}
