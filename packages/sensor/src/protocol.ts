// The agent ↔ server wire protocol, version 1. The README's "Wire protocol"
// section is the specification; the files of protocol/ are its executable
// form, and this file gathers what they export.
//
// Every request is signed with HMAC-SHA256 over a canonical string of the
// method, path, timestamp, nonce, key id and body digest. The server finds the
// key by key id (one id may have two valid keys during rotation), rejects
// requests outside a clock-skew window, and rejects a nonce it has seen inside
// that window. Nothing here does I/O: the key lookup and the nonce store are
// callbacks, so a multi-replica server can back them with PostgreSQL.

export * from "./actions.ts";
export * from "./text.ts";
export * from "./protocol/constants.ts";
export * from "./protocol/signing.ts";
export { MAX_INT32, MAX_TIMESTAMP_MS } from "./protocol/fields.ts";
export * from "./protocol/messages.ts";
export type { DecodeResult } from "./protocol/decoding.ts";
export * from "./protocol/chunk-uploads.ts";
export * from "./protocol/antigena.ts";
