// Antigena: response actions. The agent polls GET /ingest/v1/actions (signed,
// empty body) every ANTIGENA_TIME_PERIOD seconds, runs what it is handed, and
// uploads each result to POST /ingest/v1/action-results: one line of JSON
// metadata, "\n", then a classic pcap file (empty for a failure).

import { z } from "zod";
import { SNAPSHOT_LIMITS, ZInterfaceNameSchema, ZPcapSnapshotParamsSchema } from "../actions.ts";
import { summarizePcap } from "../pcap.ts";
import { INGEST_PATHS, PROTOCOL_VERSION } from "./constants.ts";
import {
  concatParts,
  joinMetadataAndPcap,
  splitMetadataAndPcap,
  zodMessage,
  type DecodeResult,
} from "./decoding.ts";
import { count32, counter, epochMs, shortText } from "./fields.ts";
import { MAX_INTERFACES_PER_REPORT, ZAgentIdentitySchema } from "./messages.ts";
import { VERIFY_FAILURE_REASONS } from "./signing.ts";

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
  return concatParts(
    joinMetadataAndPcap("encodeActionResultUpload", ZActionResultMetadataSchema.parse(metadata), pcap),
  );
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
