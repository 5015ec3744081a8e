// The protocol's fixed names and sizes: version, paths, content types, header
// names and body limits.

import { CHUNK_MAX_BYTES_LIMIT } from "../settings.ts";

export const PROTOCOL_VERSION = 1;

export const INGEST_PATHS = {
  reports: "/ingest/v1/reports",
  chunks: "/ingest/v1/chunks",
  /** Antigena: GET, `?node=<node name>`; see `actionPollPath`. */
  actions: "/ingest/v1/actions",
  actionResults: "/ingest/v1/action-results",
} as const;

export const CONTENT_TYPES = {
  report: "application/json",
  chunk: "application/vnd.tapfleet.chunk.v1",
  actionResult: "application/vnd.tapfleet.action-result.v1",
} as const;

/** Header names, lower-case as Node presents them (HTTP header names are case-insensitive). */
export const SIGNATURE_HEADERS = {
  version: "x-tapfleet-version",
  keyId: "x-tapfleet-key-id",
  timestamp: "x-tapfleet-timestamp",
  nonce: "x-tapfleet-nonce",
  contentSha256: "x-tapfleet-content-sha256",
  signature: "x-tapfleet-signature",
} as const;

export const SIGNATURE_ALGORITHM = "TAPFLEET-HMAC-SHA256";

/** Requests whose timestamp is further than this from the server's clock are `stale`. */
export const DEFAULT_SKEW_MS = 5 * 60 * 1000;

/** Largest stats report body. */
export const MAX_REPORT_BYTES = 1024 * 1024;
/** Largest chunk upload body: the pcap limit plus room for the metadata line. */
export const MAX_CHUNK_BODY_BYTES = CHUNK_MAX_BYTES_LIMIT + 64 * 1024;
