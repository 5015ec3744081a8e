// Signing a request and verifying a signed one: HMAC-SHA256 over a canonical
// string of the method, path, timestamp, nonce, key id and body digest.

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import {
  DEFAULT_SKEW_MS,
  MAX_CHUNK_BODY_BYTES,
  PROTOCOL_VERSION,
  SIGNATURE_ALGORITHM,
  SIGNATURE_HEADERS,
} from "./constants.ts";

const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TIMESTAMP = /^(0|[1-9][0-9]{0,15})$/;
const METHOD = /^[A-Z]{1,16}$/;
// The request target exactly as sent (path and query), printable ASCII: a
// space or newline could forge another line of the canonical string.
const PATH = /^\/[\x21-\x7e]*$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

// ---------------------------------------------------------------------------
// Signing

export type Body = Uint8Array | string;

/**
 * What a sender may sign: a body, or a body in parts that are sent one after
 * the other (the digest is that of their concatenation, hashed part by part,
 * so a large body need not be copied into one buffer to be signed).
 */
export type SignableBody = Body | readonly Uint8Array[];

function bodyBytes(body: Body): Uint8Array {
  return typeof body === "string" ? new TextEncoder().encode(body) : body;
}

export function sha256Hex(body: SignableBody): string {
  const hash = createHash("sha256");
  if (typeof body === "string" || body instanceof Uint8Array) hash.update(bodyBytes(body));
  else for (const part of body) hash.update(part);
  return hash.digest("hex");
}

export interface CanonicalRequest {
  method: string;
  path: string;
  timestamp: number;
  nonce: string;
  keyId: string;
  contentSha256: string;
}

/** The string that is signed: eight lines joined by "\n", no trailing newline. */
export function canonicalString(request: CanonicalRequest): string {
  return [
    SIGNATURE_ALGORITHM,
    String(PROTOCOL_VERSION),
    request.method,
    request.path,
    String(request.timestamp),
    request.nonce,
    request.keyId,
    request.contentSha256,
  ].join("\n");
}

function hmacHex(key: string, message: string): string {
  return createHmac("sha256", key).update(message, "utf8").digest("hex");
}

export interface SignRequestOptions {
  method: string;
  /** Path and query exactly as they will be sent. */
  path: string;
  /** The body, or its parts in the order they are sent (see `SignableBody`). */
  body: SignableBody;
  keyId: string;
  key: string;
  /** Milliseconds since the Unix epoch. */
  now: number;
  /** 16–64 characters of [A-Za-z0-9_-], fresh for every request: 16 random bytes as base64url. */
  nonce: string;
}

/** Returns the headers to add to the request. Throws on arguments that could never verify. */
export function signRequest(options: SignRequestOptions): Record<string, string> {
  const method = options.method.toUpperCase();
  if (!METHOD.test(method)) throw new Error(`signRequest: invalid method ${JSON.stringify(options.method)}`);
  if (!PATH.test(options.path))
    throw new Error(`signRequest: path must start with "/" and be printable ASCII without spaces`);
  if (!KEY_ID.test(options.keyId))
    throw new Error(`signRequest: invalid key id ${JSON.stringify(options.keyId)}`);
  if (!NONCE.test(options.nonce))
    throw new Error("signRequest: nonce must be 16–64 characters of [A-Za-z0-9_-]");
  if (!Number.isSafeInteger(options.now) || options.now < 0)
    throw new Error("signRequest: now must be epoch milliseconds");
  if (options.key === "") throw new Error("signRequest: empty key");
  const contentSha256 = sha256Hex(options.body);
  const signature = hmacHex(
    options.key,
    canonicalString({
      method,
      path: options.path,
      timestamp: options.now,
      nonce: options.nonce,
      keyId: options.keyId,
      contentSha256,
    }),
  );
  return {
    [SIGNATURE_HEADERS.version]: String(PROTOCOL_VERSION),
    [SIGNATURE_HEADERS.keyId]: options.keyId,
    [SIGNATURE_HEADERS.timestamp]: String(options.now),
    [SIGNATURE_HEADERS.nonce]: options.nonce,
    [SIGNATURE_HEADERS.contentSha256]: contentSha256,
    [SIGNATURE_HEADERS.signature]: signature,
  };
}

// ---------------------------------------------------------------------------
// Verification

export const VERIFY_FAILURE_REASONS = [
  "malformed",
  "unsupported_version",
  "too_large",
  "bad_digest",
  "stale",
  "unknown_key",
  "bad_signature",
  "replayed",
] as const;
export type VerifyFailureReason = (typeof VERIFY_FAILURE_REASONS)[number];

/** The HTTP status the server answers each failure with. */
export const VERIFY_FAILURE_STATUS: Record<VerifyFailureReason, number> = {
  malformed: 400,
  unsupported_version: 400,
  too_large: 413,
  bad_digest: 400,
  stale: 401,
  unknown_key: 401,
  bad_signature: 401,
  replayed: 401,
};

export type VerifyResult =
  | {
      ok: true;
      keyId: string;
      /** Which of the key id's keys matched: during rotation, tells the server who still uses the old one. */
      keyIndex: number;
      timestamp: number;
      nonce: string;
    }
  | { ok: false; reason: VerifyFailureReason; message: string };

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

type MaybePromise<T> = T | Promise<T>;

export interface VerifyRequestOptions {
  method: string;
  /** The raw request target (path and query) as received, not normalised. */
  path: string;
  headers: HeaderBag;
  body: Body;
  /** Valid keys for a key id, current first: two during rotation, none if unknown. */
  keys: (keyId: string) => MaybePromise<readonly string[]>;
  /** Server clock, epoch milliseconds. */
  now: number;
  skewMs?: number;
  /**
   * Records the nonce and says whether it was already recorded for this key
   * id. Must be atomic (check-and-set) across server replicas. The nonce only
   * needs remembering until `expiresAt`: after that its timestamp is stale.
   */
  seenNonce: (nonce: string, keyId: string, expiresAt: number) => MaybePromise<boolean>;
  maxBodyBytes?: number;
}

function fail(reason: VerifyFailureReason, message: string): VerifyResult {
  return { ok: false, reason, message };
}

function header(headers: HeaderBag, name: string): string | undefined | null {
  let found: string | readonly string[] | undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && value !== undefined) {
      if (found !== undefined) return null;
      found = value;
    }
  }
  if (found === undefined) return undefined;
  if (typeof found === "string") return found;
  return found.length === 1 ? (found[0] ?? null) : null; // repeated header: ambiguous
}

/**
 * Verifies a signed request. Checks run cheapest first, and the nonce is
 * recorded only for requests whose signature is valid, so that unsigned
 * traffic cannot fill the nonce store.
 */
export async function verifyRequest(options: VerifyRequestOptions): Promise<VerifyResult> {
  const values: Record<keyof typeof SIGNATURE_HEADERS, string> = {
    version: "",
    keyId: "",
    timestamp: "",
    nonce: "",
    contentSha256: "",
    signature: "",
  };
  for (const [field, name] of Object.entries(SIGNATURE_HEADERS) as Array<
    [keyof typeof SIGNATURE_HEADERS, string]
  >) {
    const value = header(options.headers, name);
    if (value === undefined) return fail("malformed", `missing header ${name}`);
    if (value === null) return fail("malformed", `header ${name} is repeated`);
    values[field] = value;
  }
  if (values.version !== String(PROTOCOL_VERSION)) {
    return fail(
      "unsupported_version",
      `protocol version ${JSON.stringify(values.version)} is not supported; this server speaks ${PROTOCOL_VERSION}`,
    );
  }
  const method = options.method.toUpperCase();
  if (!METHOD.test(method)) return fail("malformed", "invalid method");
  if (!PATH.test(options.path)) return fail("malformed", "invalid request path");
  if (!KEY_ID.test(values.keyId)) return fail("malformed", `invalid ${SIGNATURE_HEADERS.keyId}`);
  if (!TIMESTAMP.test(values.timestamp))
    return fail("malformed", `${SIGNATURE_HEADERS.timestamp} must be epoch milliseconds`);
  if (!NONCE.test(values.nonce))
    return fail("malformed", `${SIGNATURE_HEADERS.nonce} must be 16–64 characters of [A-Za-z0-9_-]`);
  if (!HEX_SHA256.test(values.contentSha256))
    return fail("malformed", `${SIGNATURE_HEADERS.contentSha256} must be 64 lower-case hex digits`);
  if (!HEX_SHA256.test(values.signature))
    return fail("malformed", `${SIGNATURE_HEADERS.signature} must be 64 lower-case hex digits`);

  const body = bodyBytes(options.body);
  const maxBodyBytes = options.maxBodyBytes ?? MAX_CHUNK_BODY_BYTES;
  if (body.byteLength > maxBodyBytes)
    return fail("too_large", `body of ${body.byteLength} bytes exceeds ${maxBodyBytes}`);
  const digest = sha256Hex(body);
  if (!timingSafeEqual(Buffer.from(digest, "hex"), Buffer.from(values.contentSha256, "hex"))) {
    return fail("bad_digest", "body does not match its SHA-256 header");
  }

  const timestamp = Number(values.timestamp);
  const skewMs = options.skewMs ?? DEFAULT_SKEW_MS;
  const drift = timestamp - options.now;
  if (Math.abs(drift) > skewMs) {
    return fail(
      "stale",
      `timestamp is ${Math.abs(drift)} ms ${drift < 0 ? "behind" : "ahead of"} the server clock (allowed: ${skewMs} ms)`,
    );
  }

  const keys = await options.keys(values.keyId);
  if (keys.length === 0)
    return fail(
      "unknown_key",
      `key id ${JSON.stringify(values.keyId)} is not known: never registered, retired, or its cluster was removed`,
    );
  const message = canonicalString({
    method,
    path: options.path,
    timestamp,
    nonce: values.nonce,
    keyId: values.keyId,
    contentSha256: values.contentSha256,
  });
  const presented = Buffer.from(values.signature, "hex");
  let keyIndex = -1;
  for (const [index, key] of keys.entries()) {
    // Compare against every key so the time taken does not depend on which matched.
    const expected = Buffer.from(hmacHex(key, message), "hex");
    if (timingSafeEqual(expected, presented) && keyIndex === -1) keyIndex = index;
  }
  if (keyIndex === -1) return fail("bad_signature", "signature does not match any key for this key id");

  if (await options.seenNonce(values.nonce, values.keyId, timestamp + skewMs)) {
    return fail("replayed", "nonce already used");
  }
  return { ok: true, keyId: values.keyId, keyIndex, timestamp, nonce: values.nonce };
}
