// A pcap snapshot (Antigena action `pcap_snapshot`): its own capture session
// on each chosen interface, with the action's filter combined with the
// sensor's (BPF and own-traffic exclusion), for the action's duration or
// until its byte or packet bound, then one classic pcap file. The agent's
// continuous capture is not touched: a snapshot is a second reader.
//
// Sessions come from a `SnapshotSource` (./libpcap-source.ts adapts the
// capture binding), so this module knows nothing of how packets are read.

import {
  PCAP_GLOBAL_HEADER_BYTES,
  PCAP_RECORD_HEADER_BYTES,
  writePcapGlobalHeader,
  writePcapRecordHeader,
} from "@tapfleet/sensor/pcap";
import type { PcapSnapshotParams, SnapshotEndReason } from "@tapfleet/sensor";

/** One captured packet; `data` is only valid during the call (copy what you keep). */
export interface CapturedPacket {
  seconds: number;
  microseconds: number;
  data: Uint8Array;
  capturedLength: number;
  wireLength: number;
}

export interface SnapshotSession {
  readonly linkType: number;
  close(): void;
}

export interface SnapshotSource {
  /**
   * Opens a capture of its own on `device` with `filter` (libpcap syntax, "" for none). Rejects
   * when it cannot (libpcap refuses the filter, the interface is gone). `onStopped` reports a
   * capture that ended by itself.
   */
  open(options: {
    device: string;
    filter: string;
    onPacket: (packet: CapturedPacket) => void;
    onStopped: (error: Error) => void;
  }): Promise<SnapshotSession>;
}

export interface SnapshotEnvironment {
  source: SnapshotSource;
  /** The interfaces the agent captures on right now (its selection rules apply to snapshots too). */
  capturedInterfaces: () => string[];
  /** The filter every capture of this agent uses: sensor BPF and own-traffic exclusion ("" for none). */
  baseFilter: string;
  /** Written in the pcap header: the sessions' snap length. */
  snapLength: number;
  /** libpcap's read timeout; packets may reach us this much after they were captured. */
  captureTimeoutMs: number;
  now: () => number;
  /** Called once every session is open: packets from now on are in the snapshot. */
  onStarted?: (details: { interfaces: string[]; filter: string }) => void;
}

export type SnapshotResult =
  | {
      status: "succeeded";
      pcap: Buffer;
      packetCount: number;
      interfaces: string[];
      endedBy: SnapshotEndReason;
      startedAt: number;
      finishedAt: number;
      /** Something worth knowing that did not make it fail (an interface left out). */
      note?: string;
    }
  | { status: "failed"; reason: string; interfaces: string[]; startedAt?: number; finishedAt: number };

/** `(base) and (action)`, leaving out whichever is empty. */
export function combineFilters(base: string, action: string): string {
  const parts = [base.trim(), action.trim()].filter((part) => part !== "");
  if (parts.length < 2) return parts[0] ?? "";
  return parts.map((part) => `(${part})`).join(" and ");
}

interface CapturedRecord {
  atUs: number;
  /** 16-byte record header and the captured bytes. */
  bytes: Buffer;
}

/** One classic pcap (little-endian, µs) of the records, oldest first. */
export function assemblePcap(
  records: readonly CapturedRecord[],
  linkType: number,
  snapLength: number,
): Buffer {
  const sorted = [...records].sort((a, b) => a.atUs - b.atUs);
  const header = Buffer.alloc(PCAP_GLOBAL_HEADER_BYTES);
  writePcapGlobalHeader(header, { linkType, snapLength });
  return Buffer.concat([header, ...sorted.map((record) => record.bytes)]);
}

/**
 * Runs one snapshot. Never throws: every problem becomes a failed result with
 * a reason the operator can act on. `signal` cuts it short (agent stopping).
 */
export async function runPcapSnapshot(
  environment: SnapshotEnvironment,
  params: PcapSnapshotParams,
  signal?: AbortSignal,
): Promise<SnapshotResult> {
  const { now } = environment;
  const captured = environment.capturedInterfaces().sort();
  let interfaces: string[];
  if (params.interface !== undefined) {
    if (!captured.includes(params.interface)) {
      return {
        status: "failed",
        reason: `interface ${params.interface} is not captured by this sensor (it captures ${captured.join(", ") || "nothing right now"})`,
        interfaces: [],
        finishedAt: now(),
      };
    }
    interfaces = [params.interface];
  } else {
    interfaces = captured;
  }
  if (interfaces.length === 0) {
    return {
      status: "failed",
      reason: "the sensor captures on no interface right now",
      interfaces: [],
      finishedAt: now(),
    };
  }
  const filter = combineFilters(environment.baseFilter, params.filter);

  const records: CapturedRecord[] = [];
  let bytes = PCAP_GLOBAL_HEADER_BYTES;
  let endedBy: SnapshotEndReason | undefined;
  /** Packets stamped after this (µs) belong to after the snapshot. */
  let endAtUs = Number.POSITIVE_INFINITY;
  let finish: (() => void) | undefined;
  const ended = new Promise<void>((resolve) => (finish = resolve));
  const end = (reason: SnapshotEndReason): void => {
    if (endedBy !== undefined) return;
    endedBy = reason;
    finish?.();
  };

  const sessions: Array<{ name: string; session: SnapshotSession }> = [];
  const notes: string[] = [];
  let linkType: number | undefined;
  const closeAll = (): void => {
    for (const { session } of sessions.splice(0)) session.close();
  };
  const onPacket = (packet: CapturedPacket): void => {
    if ((endedBy !== undefined && endedBy !== "duration") || records.length >= params.maxPackets) return;
    const atUs = packet.seconds * 1_000_000 + packet.microseconds;
    if (atUs > endAtUs) return;
    const length = Math.min(packet.capturedLength, packet.data.byteLength);
    const size = PCAP_RECORD_HEADER_BYTES + length;
    if (bytes + size > params.maxBytes) {
      end("max_bytes");
      endAtUs = Math.min(endAtUs, atUs - 1);
      return;
    }
    const record = Buffer.allocUnsafe(size);
    writePcapRecordHeader(record, 0, packet.seconds, packet.microseconds, length, packet.wireLength);
    record.set(packet.data.subarray(0, length), PCAP_RECORD_HEADER_BYTES);
    records.push({ atUs, bytes: record });
    bytes += size;
    if (records.length >= params.maxPackets) {
      end("max_packets");
      endAtUs = Math.min(endAtUs, atUs);
    }
  };
  for (const name of interfaces) {
    let session: SnapshotSession;
    try {
      session = await environment.source.open({
        device: name,
        filter,
        onPacket,
        onStopped: (error) => notes.push(error.message),
      });
    } catch (error) {
      closeAll();
      const message = error instanceof Error ? error.message : String(error);
      return {
        status: "failed",
        reason:
          params.filter.trim() === ""
            ? `cannot capture on ${name}: ${message}`
            : `cannot capture on ${name} with filter "${filter}" (libpcap: ${message})`,
        interfaces: [],
        finishedAt: now(),
      };
    }
    if (linkType === undefined) linkType = session.linkType;
    if (session.linkType !== linkType) {
      // One classic pcap file has one link type.
      session.close();
      notes.push(`${name} left out: its link type ${session.linkType} differs from ${linkType}`);
      continue;
    }
    sessions.push({ name, session });
  }
  const used = sessions.map((entry) => entry.name);
  const startedAt = now();
  environment.onStarted?.({ interfaces: used, filter });

  const timer = setTimeout(() => end("duration"), params.durationSeconds * 1000);
  const onAbort = (): void => end("duration");
  signal?.addEventListener("abort", onAbort, { once: true });
  await ended;
  clearTimeout(timer);
  signal?.removeEventListener("abort", onAbort);
  if (endedBy === "duration") {
    // The kernel hands packets over in blocks, up to the read timeout late:
    // keep reading a little longer, but only what was stamped before the end.
    endAtUs = now() * 1000;
    if (signal?.aborted !== true)
      await new Promise((resolve) => setTimeout(resolve, environment.captureTimeoutMs * 2 + 50));
  }
  closeAll();
  const finishedAt = now();
  if (signal?.aborted === true) {
    return {
      status: "failed",
      reason: "the agent stopped before the snapshot ended",
      interfaces: used,
      startedAt,
      finishedAt,
    };
  }
  const kept = records.filter((record) => record.atUs <= endAtUs);
  return {
    status: "succeeded",
    pcap: assemblePcap(kept, linkType ?? 1, environment.snapLength),
    packetCount: kept.length,
    interfaces: used,
    endedBy: endedBy ?? "duration",
    startedAt,
    finishedAt,
    ...(notes.length > 0 ? { note: notes.join("; ").slice(0, 1000) } : {}),
  };
}
