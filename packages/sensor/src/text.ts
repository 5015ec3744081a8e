// Text the server stores. PostgreSQL's text cannot hold U+0000, and a string
// with a lone UTF-16 surrogate has no UTF-8 encoding (node-postgres would
// silently store U+FFFD instead), so both are refused where the value comes
// in, naming the field, rather than failing in the database. zod only, so the
// dashboard's forms can use the same rule.
import type { z } from "zod";

// Without the `u` flag the pattern sees UTF-16 code units, which is what a
// lone surrogate is.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const NUL_MESSAGE = "must not contain a NUL character (U+0000)";
export const LONE_SURROGATE_MESSAGE = "must be well-formed Unicode (it has a lone surrogate)";

/** Says what makes `value` unstorable, or undefined when it can be stored as it is. */
export function checkStorableText(value: string): string | undefined {
  if (value.includes("\u0000")) return NUL_MESSAGE;
  if (LONE_SURROGATE.test(value)) return LONE_SURROGATE_MESSAGE;
  return undefined;
}

/** Adds the storable-text rule to a string schema (keeps its own min/max and messages). */
export function storableText<T extends z.ZodString>(schema: T) {
  return schema.superRefine((value, context) => {
    const problem = checkStorableText(value);
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
  });
}
