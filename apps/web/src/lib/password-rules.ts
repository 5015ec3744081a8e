// The server's password rule, run before sending (see ./account-rules.ts). Apart from the other
// account rules because it brings zxcvbn's dictionaries (1.7 MB of JavaScript): only the pages
// with a password form import it, so the dashboard's other pages never load them.
import { PASSWORD_MIN_LENGTH, ZPasswordSchema } from "@tapfleet/sensor/passwords";
import { fieldMessage, firstProblem } from "./account-rules";

export const minPasswordLength = PASSWORD_MIN_LENGTH;

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
