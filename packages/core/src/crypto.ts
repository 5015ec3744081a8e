import { createHash, randomBytes } from "node:crypto";

/** 256 random bits, URL-safe. Used for session cookies and API token secrets. */
export function generateSecret(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * SHA-256 of a high-entropy secret. A fast hash is right here: the secrets are
 * random 256-bit values, so a stolen table cannot be brute-forced, and lookups
 * by hash stay O(1). Passwords, which are low-entropy, use argon2id instead.
 */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
