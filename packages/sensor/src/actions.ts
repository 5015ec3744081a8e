// Antigena response actions: the parameters of each action type, with their
// bounds. zod and the BPF pre-check only (no node built-ins), so the dashboard
// can validate a request before sending it; the wire messages that carry
// actions are in protocol/antigena.ts.
import { z } from "zod";
import { checkBpfFilter } from "./bpf.ts";
import { storableText } from "./text.ts";

export const ACTION_TYPES = ["pcap_snapshot"] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** Bounds of a pcap snapshot, and the defaults the API fills in. */
export const SNAPSHOT_LIMITS = {
  durationSeconds: { min: 1, max: 300, default: 10 },
  maxBytes: { min: 1024, max: 16 * 1024 * 1024, default: 4 * 1024 * 1024 },
  maxPackets: { min: 1, max: 1_000_000, default: 100_000 },
  filterLength: 1024,
} as const;

/** "1 second", "300 seconds": a count with its unit, singular for 1. */
const count = (n: number, unit: { one: string; other: string }) => `${n} ${n === 1 ? unit.one : unit.other}`;

const boundedInt = (what: { min: number; max: number }, unit: { one: string; other: string }) =>
  z
    .number()
    .int("must be an integer")
    .min(what.min, `must be at least ${count(what.min, unit)}`)
    .max(what.max, `must be at most ${count(what.max, unit)}`);

/** The sensor contract's BPF pre-check; libpcap on the agent is the final judge. */
export const ZSnapshotFilterSchema = z
  .string()
  .max(SNAPSHOT_LIMITS.filterLength, `must be at most ${SNAPSHOT_LIMITS.filterLength} characters`)
  .superRefine((value, context) => {
    const result = checkBpfFilter(value);
    if (!result.ok)
      context.addIssue({
        code: "custom",
        message: `is not a valid BPF filter: ${result.message} (at character ${result.index + 1})`,
      });
  });

/** A Linux interface name (dev_valid_name). */
export const ZInterfaceNameSchema = storableText(
  z
    .string()
    .min(1, "must not be empty")
    .max(15, "must be at most 15 characters (a Linux interface name)")
    .regex(/^[^/:\s]+$/, 'must be a Linux interface name (no "/", ":" or whitespace)'),
).refine((value) => value !== "." && value !== "..", "must be a Linux interface name");

export const ZPcapSnapshotParamsSchema = z.strictObject({
  /** How long to capture. */
  durationSeconds: boundedInt(SNAPSHOT_LIMITS.durationSeconds, { one: "second", other: "seconds" }),
  /** Combined with the sensor's BPF and its own-traffic exclusion; "" keeps everything the sensor captures. */
  filter: ZSnapshotFilterSchema,
  /** One of the interfaces the sensor captures; absent: all of them. */
  interface: ZInterfaceNameSchema.optional(),
  /** The capture ends early when the pcap would grow past this (global header included). */
  maxBytes: boundedInt(SNAPSHOT_LIMITS.maxBytes, { one: "byte", other: "bytes" }),
  /** The capture ends early at this many packets. */
  maxPackets: boundedInt(SNAPSHOT_LIMITS.maxPackets, { one: "packet", other: "packets" }),
});
export type PcapSnapshotParams = z.infer<typeof ZPcapSnapshotParamsSchema>;
