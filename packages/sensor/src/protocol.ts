// The agent ↔ server wire protocol, version 1. The README's "Wire protocol"
// section is the specification; this file is its executable form.
//
// Every request is signed with HMAC-SHA256 over a canonical string of the
// method, path, timestamp, nonce, key id and body digest. The server finds the
// key by key id (one id may have two valid keys during rotation), rejects
// requests outside a clock-skew window, and rejects a nonce it has seen inside
// that window. Nothing here does I/O: the key lookup and the nonce store are
// callbacks, so a multi-replica server can back them with PostgreSQL.

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { SNAPSHOT_LIMITS, ZInterfaceNameSchema, ZPcapSnapshotParamsSchema } from "./actions.ts";
import { summarizePcap } from "./pcap.ts";
import { CHUNK_MAX_BYTES_LIMIT, REPORT_INTERVAL_SECONDS } from "./settings.ts";
import { storableText } from "./text.ts";

export * from "./actions.ts";
export * from "./text.ts";

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
  if (keys.length === 0) return fail("unknown_key", `no key for key id ${JSON.stringify(values.keyId)}`);
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

// ---------------------------------------------------------------------------
// Messages

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
const counter = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** A count stored in an `integer` column. */
const count32 = counter.max(MAX_INT32);
const epochMs = z
  .number()
  .int()
  .nonnegative()
  .max(MAX_TIMESTAMP_MS, "must be epoch milliseconds no later than 9999-12-31T23:59:59.999Z");
/** Packet times, epoch µs, stored as `bigint` (a classic pcap cannot go past 2106 anyway). */
const epochUs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Stored text: 1–`max` characters, no NUL, no lone surrogate. */
const shortText = (max: number) =>
  storableText(z.string().min(1, `must be 1–${max} characters`).max(max, `must be 1–${max} characters`));

/** Who is talking. Sequences count per message kind from 0 at agent start; `startedAt` tells restarts apart. */
export const ZAgentIdentitySchema = z.strictObject({
  clusterId: shortText(63),
  nodeName: shortText(253),
  podName: shortText(253),
  agentVersion: shortText(64),
  configHash: z.string().regex(/^[0-9a-f]{16,64}$/),
  startedAt: epochMs,
  sequence: counter,
});
export type AgentIdentity = z.infer<typeof ZAgentIdentitySchema>;

/** Packets by protocol: ipv4 + ipv6 count network layers, tcp/udp/icmp (v4 and v6)/other count transports. */
export const ZProtocolMixSchema = z.strictObject({
  ipv4: counter,
  ipv6: counter,
  tcp: counter,
  udp: counter,
  icmp: counter,
  other: counter,
});
export type ProtocolMix = z.infer<typeof ZProtocolMixSchema>;

export const ZTopTalkerSchema = z.strictObject({
  address: z.union([z.ipv4(), z.ipv6()]),
  packets: counter,
  bytes: counter,
});
export type TopTalker = z.infer<typeof ZTopTalkerSchema>;

export const MAX_TOP_TALKERS = 20;
export const MAX_INTERFACES_PER_REPORT = 256;

/** Counters are cumulative since agent start (like pcap_stats), so a lost report loses nothing. */
export const ZInterfaceStatsSchema = z.strictObject({
  name: ZInterfaceNameSchema,
  packets: counter,
  bytes: counter,
  /** Dropped by the kernel because the capture buffer was full (ps_drop). */
  kernelDrops: counter,
  /** Dropped by the interface or driver (ps_ifdrop). */
  interfaceDrops: counter,
  protocols: ZProtocolMixSchema,
  /** By bytes, largest first, at most MAX_TOP_TALKERS, over the last report interval. */
  topTalkers: z.array(ZTopTalkerSchema).max(MAX_TOP_TALKERS),
});
export type InterfaceStats = z.infer<typeof ZInterfaceStatsSchema>;

export const CHUNK_DROP_REASONS = [
  "bandwidth_cap",
  "queue_full",
  "too_large",
  "server_rejected",
  "network_error",
] as const;
export const ZChunkDropReasonSchema = z.enum(CHUNK_DROP_REASONS);
export type ChunkDropReason = z.infer<typeof ZChunkDropReasonSchema>;

/** Why a stats report never reached the server: pushed out of a full outbox, or refused for good. */
export const REPORT_DROP_REASONS = ["outbox_full", "rejected"] as const;
export const ZReportDropReasonSchema = z.enum(REPORT_DROP_REASONS);
export type ReportDropReason = z.infer<typeof ZReportDropReasonSchema>;

export const ZUploadStatsSchema = z.strictObject({
  chunksSent: counter,
  bytesSent: counter,
  /** Cumulative drops by reason; reasons never seen may be left out. */
  chunksDropped: z.partialRecord(ZChunkDropReasonSchema, counter),
  /**
   * Cumulative reports this agent dropped, by reason; left out while none were.
   * A later report carries the count, so the server learns of a loss that is
   * otherwise only a gap in sequence numbers.
   */
  reportsDropped: z.partialRecord(ZReportDropReasonSchema, counter).optional(),
});
export type UploadStats = z.infer<typeof ZUploadStatsSchema>;

/**
 * Antigena (response actions) counters, cumulative since agent start. Sent
 * only by agents with ANTIGENA_ENABLED; optional so that reports without it
 * (older agents, Antigena off) stay valid.
 */
export const ZAntigenaStatsSchema = z.strictObject({
  /** Polls answered with 2xx. */
  pollsOk: counter,
  /** Polls that failed: network error, timeout, or a non-2xx answer. */
  pollsFailed: counter,
  /** Distinct actions received (an action handed out again is not counted twice). */
  actionsReceived: counter,
  /** Actions that ran and whose "succeeded" result the server accepted. */
  actionsSucceeded: counter,
  /** Every other ended action: failed to run, unsupported, or its result could not be delivered. */
  actionsFailed: counter,
});
export type AntigenaStats = z.infer<typeof ZAntigenaStatsSchema>;

export const ZStatsReportSchema = z.strictObject({
  protocolVersion: z.literal(PROTOCOL_VERSION),
  agent: ZAgentIdentitySchema,
  sentAt: epochMs,
  /**
   * Seconds until this agent's next report (TAPFLEET_REPORT_INTERVAL), so the
   * server knows when a silence is a missed report. Older agents leave it
   * out; read it then as REPORT_INTERVAL_SECONDS.default.
   */
  reportIntervalSeconds: z
    .number()
    .int()
    .min(REPORT_INTERVAL_SECONDS.min)
    .max(REPORT_INTERVAL_SECONDS.max)
    .optional(),
  interfaces: z.array(ZInterfaceStatsSchema).max(MAX_INTERFACES_PER_REPORT),
  upload: ZUploadStatsSchema,
  antigena: ZAntigenaStatsSchema.optional(),
});
export type StatsReport = z.infer<typeof ZStatsReportSchema>;

/** Timestamps of packets are epoch microseconds, the precision of a classic pcap file. */
export const ZChunkMetadataSchema = z
  .strictObject({
    protocolVersion: z.literal(PROTOCOL_VERSION),
    agent: ZAgentIdentitySchema,
    interface: ZInterfaceNameSchema,
    firstPacketAtUs: epochUs,
    lastPacketAtUs: epochUs,
    packetCount: count32.min(1),
    pcapBytes: counter.max(CHUNK_MAX_BYTES_LIMIT),
  })
  .refine((chunk) => chunk.lastPacketAtUs >= chunk.firstPacketAtUs, {
    message: "lastPacketAtUs is before firstPacketAtUs",
    path: ["lastPacketAtUs"],
  });
export type ChunkMetadata = z.infer<typeof ZChunkMetadataSchema>;

/** What the server answers to a report or chunk. */
export const ZIngestResponseSchema = z.discriminatedUnion("ok", [
  z.strictObject({
    ok: z.literal(true),
    /** Lets the agent see its own clock drift before it turns into `stale`. */
    serverTime: epochMs,
    /** The config hash the server expects; differs from the agent's while a rollout is pending. */
    desiredConfigHash: z.string().optional(),
  }),
  z.strictObject({
    ok: z.literal(false),
    reason: z.union([
      z.enum(VERIFY_FAILURE_REASONS),
      z.enum(["invalid_body", "unknown_cluster", "rate_limited", "internal"]),
    ]),
    message: z.string(),
    serverTime: epochMs,
  }),
]);
export type IngestResponse = z.infer<typeof ZIngestResponseSchema>;

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: "invalid_body"; message: string };

function zodMessage(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ");
}

export function encodeStatsReport(report: StatsReport): string {
  return JSON.stringify(ZStatsReportSchema.parse(report));
}

export function decodeStatsReport(body: Body): DecodeResult<StatsReport> {
  let json: unknown;
  try {
    json = JSON.parse(
      typeof body === "string" ? body : new TextDecoder("utf-8", { fatal: true }).decode(body),
    );
  } catch {
    return { ok: false, reason: "invalid_body", message: "body is not UTF-8 JSON" };
  }
  const result = ZStatsReportSchema.safeParse(json);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, reason: "invalid_body", message: zodMessage(result.error) };
}

// ---------------------------------------------------------------------------
// Chunk uploads: one line of JSON metadata, "\n", then a classic pcap file.
// JSON.stringify never writes a raw newline, so the first "\n" ends the metadata.

export function encodeChunkUpload(metadata: ChunkMetadata, pcap: Uint8Array): Uint8Array {
  const [head] = encodeChunkUploadParts(metadata, pcap);
  const body = new Uint8Array(head.byteLength + pcap.byteLength);
  body.set(head, 0);
  body.set(pcap, head.byteLength);
  return body;
}

/**
 * The same body as `encodeChunkUpload`, as two parts to send one after the
 * other: the metadata line (with its "\n") and the pcap itself, not copied.
 * Sign the parts (`signRequest` takes them as the body) and send them with a
 * Content-Length of their sum; on the wire nothing tells the two apart.
 */
export function encodeChunkUploadParts(
  metadata: ChunkMetadata,
  pcap: Uint8Array,
): [head: Uint8Array, pcap: Uint8Array] {
  const valid = ZChunkMetadataSchema.parse(metadata);
  if (valid.pcapBytes !== pcap.byteLength)
    throw new Error(
      `encodeChunkUpload: pcapBytes is ${valid.pcapBytes} but the pcap has ${pcap.byteLength} bytes`,
    );
  return [new TextEncoder().encode(`${JSON.stringify(valid)}\n`), pcap];
}

/**
 * The shape shared by chunk and result uploads: one line of JSON metadata
 * (checked against `schema`), "\n", then exactly `pcapBytes` bytes of pcap.
 */
function splitMetadataAndPcap<T extends { pcapBytes: number }>(
  body: Uint8Array,
  schema: z.ZodType<T>,
): DecodeResult<{ metadata: T; pcap: Uint8Array }> {
  const newline = body.indexOf(0x0a);
  if (newline === -1) return { ok: false, reason: "invalid_body", message: "no metadata line" };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body.subarray(0, newline)));
  } catch {
    return { ok: false, reason: "invalid_body", message: "metadata line is not UTF-8 JSON" };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: "invalid_body", message: zodMessage(parsed.error) };
  const metadata = parsed.data;
  const pcap = body.subarray(newline + 1);
  if (pcap.byteLength !== metadata.pcapBytes) {
    return {
      ok: false,
      reason: "invalid_body",
      message: `pcapBytes is ${metadata.pcapBytes} but ${pcap.byteLength} bytes follow`,
    };
  }
  return { ok: true, value: { metadata, pcap } };
}

/** Splits and checks a chunk upload: the metadata must agree with the pcap it describes. */
export function decodeChunkUpload(
  body: Uint8Array,
): DecodeResult<{ metadata: ChunkMetadata; pcap: Uint8Array }> {
  const split = splitMetadataAndPcap(body, ZChunkMetadataSchema);
  if (!split.ok) return split;
  const { metadata, pcap } = split.value;
  const summary = summarizePcap(pcap);
  if (!summary.ok) return { ok: false, reason: "invalid_body", message: summary.message };
  const { packetCount, firstPacketAtUs, lastPacketAtUs } = summary.summary;
  if (
    packetCount !== metadata.packetCount ||
    firstPacketAtUs !== metadata.firstPacketAtUs ||
    lastPacketAtUs !== metadata.lastPacketAtUs
  ) {
    return {
      ok: false,
      reason: "invalid_body",
      message: `metadata (${metadata.packetCount} packets, ${metadata.firstPacketAtUs}–${metadata.lastPacketAtUs} µs) does not match the pcap (${packetCount} packets, ${firstPacketAtUs}–${lastPacketAtUs} µs)`,
    };
  }
  return { ok: true, value: { metadata, pcap } };
}

// ---------------------------------------------------------------------------
// Antigena: response actions. The agent polls GET /ingest/v1/actions (signed,
// empty body) every ANTIGENA_TIME_PERIOD seconds, runs what it is handed, and
// uploads each result to POST /ingest/v1/action-results: one line of JSON
// metadata, "\n", then a classic pcap file (empty for a failure).

/** Largest result upload body: the largest snapshot plus room for the metadata line. */
export const MAX_ACTION_RESULT_BODY_BYTES = SNAPSHOT_LIMITS.maxBytes.max + 64 * 1024;
/** At most this many actions in one poll answer. */
export const MAX_ACTIONS_PER_POLL = 16;

export const ZSensorActionSchema = z.discriminatedUnion("type", [
  z.strictObject({
    id: z.uuid(),
    type: z.literal("pcap_snapshot"),
    requestedAt: epochMs,
    /** Server clock: a result that arrives later is refused (`action_closed`). */
    deadlineAt: epochMs,
    params: ZPcapSnapshotParamsSchema,
  }),
]);
export type SensorAction = z.infer<typeof ZSensorActionSchema>;

export const ACTION_REFUSAL_REASONS = [
  ...VERIFY_FAILURE_REASONS,
  "invalid_body",
  "unknown_cluster",
  "unknown_action",
  "action_closed",
  "rate_limited",
  "internal",
] as const;
export type ActionRefusalReason = (typeof ACTION_REFUSAL_REASONS)[number];

const ZActionRefusalSchema = z.strictObject({
  ok: z.literal(false),
  reason: z.enum(ACTION_REFUSAL_REASONS),
  message: z.string(),
  serverTime: epochMs,
});

/**
 * The answer to a poll. `actions` is read item by item (`decodeActionPoll`),
 * so that an action type this agent does not know fails alone instead of
 * making the whole poll unreadable.
 */
export const ZActionPollResponseSchema = z.discriminatedUnion("ok", [
  z.strictObject({
    ok: z.literal(true),
    serverTime: epochMs,
    actions: z.array(z.unknown()).max(MAX_ACTIONS_PER_POLL),
  }),
  ZActionRefusalSchema,
]);
export type ActionPollResponse =
  { ok: true; serverTime: number; actions: SensorAction[] } | z.infer<typeof ZActionRefusalSchema>;

export const ZActionResultResponseSchema = z.discriminatedUnion("ok", [
  z.strictObject({ ok: z.literal(true), serverTime: epochMs }),
  ZActionRefusalSchema,
]);
export type ActionResultResponse = z.infer<typeof ZActionResultResponseSchema>;

/** The poll's request target: the node name names the sensor within the key's cluster. */
export function actionPollPath(nodeName: string): string {
  return `${INGEST_PATHS.actions}?node=${encodeURIComponent(nodeName)}`;
}

/** Reads the node name from a poll's request target; the only parameter allowed is `node`. */
export function parseActionPollPath(
  target: string,
): { ok: true; nodeName: string } | { ok: false; message: string } {
  const question = target.indexOf("?");
  const path = question === -1 ? target : target.slice(0, question);
  if (path !== INGEST_PATHS.actions) return { ok: false, message: `path must be ${INGEST_PATHS.actions}` };
  const query = new URLSearchParams(question === -1 ? "" : target.slice(question + 1));
  const keys = [...query.keys()];
  if (keys.length !== 1 || keys[0] !== "node")
    return { ok: false, message: "the query must be exactly ?node=<node name>" };
  const nodeName = ZAgentIdentitySchema.shape.nodeName.safeParse(query.get("node") ?? "");
  if (!nodeName.success)
    return { ok: false, message: `node: ${nodeName.error.issues.map((issue) => issue.message).join("; ")}` };
  return { ok: true, nodeName: nodeName.data };
}

/**
 * Decodes a poll answer. Actions that do not match any known action schema
 * but carry an id come back in `unsupported`, so the agent can fail them
 * explicitly; items without a usable id are dropped.
 */
export function decodeActionPoll(text: string):
  | {
      ok: true;
      serverTime: number;
      actions: SensorAction[];
      unsupported: Array<{ id: string; type: string; message: string }>;
    }
  | { ok: false; message: string; reason?: ActionRefusalReason } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: "answer is not JSON" };
  }
  const parsed = ZActionPollResponseSchema.safeParse(json);
  if (!parsed.success) return { ok: false, message: zodMessage(parsed.error) };
  if (!parsed.data.ok) return { ok: false, message: parsed.data.message, reason: parsed.data.reason };
  const actions: SensorAction[] = [];
  const unsupported: Array<{ id: string; type: string; message: string }> = [];
  for (const item of parsed.data.actions) {
    const action = ZSensorActionSchema.safeParse(item);
    if (action.success) {
      actions.push(action.data);
      continue;
    }
    const head = z.object({ id: z.uuid(), type: z.string().max(64) }).safeParse(item);
    if (head.success) unsupported.push({ ...head.data, message: zodMessage(action.error) });
  }
  return { ok: true, serverTime: parsed.data.serverTime, actions, unsupported };
}

export const SNAPSHOT_END_REASONS = ["duration", "max_bytes", "max_packets"] as const;
export type SnapshotEndReason = (typeof SNAPSHOT_END_REASONS)[number];

export const ZActionResultMetadataSchema = z
  .strictObject({
    protocolVersion: z.literal(PROTOCOL_VERSION),
    agent: ZAgentIdentitySchema,
    actionId: z.uuid(),
    status: z.enum(["succeeded", "failed"]),
    /** Why it failed, in words (required for `failed`). */
    reason: shortText(1000).optional(),
    /** When capture started and ended, agent clock, epoch ms. */
    startedAt: epochMs.optional(),
    finishedAt: epochMs,
    /** The interfaces captured on. */
    interfaces: z.array(ZInterfaceNameSchema).max(MAX_INTERFACES_PER_REPORT),
    /** What ended a successful capture. */
    endedBy: z.enum(SNAPSHOT_END_REASONS).optional(),
    packetCount: count32,
    pcapBytes: counter.max(SNAPSHOT_LIMITS.maxBytes.max),
  })
  .superRefine((result, context) => {
    if (result.status === "failed") {
      if (result.reason === undefined)
        context.addIssue({ code: "custom", path: ["reason"], message: "is required when status is failed" });
      if (result.pcapBytes !== 0 || result.packetCount !== 0)
        context.addIssue({
          code: "custom",
          path: ["pcapBytes"],
          message: "a failed result carries no pcap (pcapBytes and packetCount 0)",
        });
    } else {
      if (result.endedBy === undefined)
        context.addIssue({
          code: "custom",
          path: ["endedBy"],
          message: "is required when status is succeeded",
        });
      if (result.pcapBytes < 24)
        context.addIssue({
          code: "custom",
          path: ["pcapBytes"],
          message: "a succeeded result carries a pcap file (at least its 24-byte header)",
        });
    }
  });
export type ActionResultMetadata = z.infer<typeof ZActionResultMetadataSchema>;

export function encodeActionResultUpload(metadata: ActionResultMetadata, pcap: Uint8Array): Uint8Array {
  const valid = ZActionResultMetadataSchema.parse(metadata);
  if (valid.pcapBytes !== pcap.byteLength)
    throw new Error(
      `encodeActionResultUpload: pcapBytes is ${valid.pcapBytes} but the pcap has ${pcap.byteLength} bytes`,
    );
  const head = new TextEncoder().encode(`${JSON.stringify(valid)}\n`);
  const body = new Uint8Array(head.byteLength + pcap.byteLength);
  body.set(head, 0);
  body.set(pcap, head.byteLength);
  return body;
}

/** Splits and checks a result upload: the metadata must agree with the pcap it carries. */
export function decodeActionResultUpload(
  body: Uint8Array,
): DecodeResult<{ metadata: ActionResultMetadata; pcap: Uint8Array }> {
  const split = splitMetadataAndPcap(body, ZActionResultMetadataSchema);
  if (!split.ok) return split;
  const { metadata, pcap } = split.value;
  if (metadata.status === "succeeded") {
    const summary = summarizePcap(pcap);
    if (!summary.ok) return { ok: false, reason: "invalid_body", message: summary.message };
    if (summary.summary.packetCount !== metadata.packetCount) {
      return {
        ok: false,
        reason: "invalid_body",
        message: `packetCount is ${metadata.packetCount} but the pcap holds ${summary.summary.packetCount} packets`,
      };
    }
  }
  return { ok: true, value: { metadata, pcap } };
}
