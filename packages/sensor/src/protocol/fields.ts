// The field types that messages are built from.
import { z } from "zod";
import { storableText } from "../text.ts";

// What the server can store bounds what the protocol carries, so that a value
// out of range is refused as `invalid_body` naming its field instead of
// failing in the database.

/**
 * The latest timestamp a message may carry, 9999-12-31T23:59:59.999Z (epoch
 * ms). Inside what a JS Date holds (±8.64e15 ms) and PostgreSQL's timestamptz
 * (up to the year 294276), and still a four-digit year in ISO 8601.
 */
export const MAX_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Largest value of a PostgreSQL `integer` column (packet counts of stored pcaps). */
export const MAX_INT32 = 2_147_483_647;

/** Cumulative counters: every safe integer, which a PostgreSQL `bigint` holds. */
export const counter = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** A count stored in an `integer` column. */
export const count32 = counter.max(MAX_INT32);
export const epochMs = z
  .number()
  .int()
  .nonnegative()
  .max(MAX_TIMESTAMP_MS, "must be epoch milliseconds no later than 9999-12-31T23:59:59.999Z");
/** Packet times, epoch µs, stored as `bigint` (a classic pcap cannot go past 2106 anyway). */
export const epochUs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Stored text: 1–`max` characters, no NUL, no lone surrogate. */
export const shortText = (max: number) =>
  storableText(z.string().min(1, `must be 1–${max} characters`).max(max, `must be 1–${max} characters`));
