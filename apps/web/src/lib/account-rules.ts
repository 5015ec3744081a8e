// The account rules the server enforces, run here before sending so people get immediate,
// specific feedback: the very same zod schemas, from the sensor contract. The server stays the
// authority: its field errors are shown too, phrased the same way. The password rule is in
// ./password-rules.ts: it brings zxcvbn's dictionaries, which only the password forms load.
import {
  USERNAME_MAX_LENGTH,
  USERNAME_MIN_LENGTH,
  ZUsernameSchema,
  normalizeUsername,
} from "@tapfleet/sensor/accounts";
import type { z } from "zod";

export { normalizeUsername };
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

export function validateTokenName(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return "Give the token a name, e.g. the pipeline that will use it.";
  if (trimmed.length > 100) return "Use at most 100 characters.";
  return null;
}
