// Replay of a pcap file, on the capture thread: libpcap's offline reader
// (pcap_open_offline, with the session's filter) reads the file once, and the
// packets are then handed to the chunk builder at the pace their timestamps
// say, stamped with the time they are replayed, in a loop until the session
// closes. It stands in for a live capture where capturing is impossible or
// unwanted (no CAP_NET_RAW, a demo): every later stage sees packets as they
// would arrive from an interface.

import type { CaptureStats } from "./capture-messages.ts";
import type { PcapChunkBuilder } from "./pcap-chunk.ts";

/**
 * How node_pcap's native session opens a capture: open_live (a device) and
 * open_offline (a file) take the same arguments, and return libpcap's link
 * type name.
 */
export type OpenCapture = (
  source: string,
  filter: string,
  bufferSize: number,
  snapLength: number,
  outfile: string,
  packetReady: () => void,
  monitor: boolean,
  timeoutMs: number,
  warning: (message: string) => void,
  promiscuous: boolean,
) => string;

/** The part of node_pcap's native session that reading a file needs. */
export interface OfflineSession {
  open_offline: OpenCapture;
  dispatch(buffer: Buffer, header: Buffer): number;
  close(): void;
}

interface ReplayPacket {
  /** Microseconds after the file's first packet. */
  offsetUs: number;
  data: Buffer;
  wireLength: number;
}

/** Reads every packet of the file that passes the filter; returns libpcap's link type name with them. */
export function readOfflinePackets(options: {
  session: OfflineSession;
  file: string;
  filter: string;
  snapLength: number;
  warning: (message: string) => void;
}): { linkName: string; packets: ReplayPacket[] } {
  const { session } = options;
  const data = Buffer.alloc(options.snapLength);
  const header = Buffer.alloc(16);
  const fields = new Uint32Array(header.buffer, header.byteOffset, 4);
  const packets: ReplayPacket[] = [];
  let firstUs: number | undefined;
  const linkName = session.open_offline(
    options.file,
    options.filter,
    0,
    options.snapLength,
    "",
    () => {
      const atUs = fields[0]! * 1_000_000 + fields[1]!;
      firstUs ??= atUs;
      const captured = Math.min(fields[2]!, data.length);
      packets.push({
        offsetUs: Math.max(0, atUs - firstUs),
        data: Buffer.from(data.subarray(0, captured)),
        wireLength: fields[3]!,
      });
    },
    false,
    0,
    options.warning,
    false,
  );
  try {
    // One dispatch reads to the end of the file (node_pcap loops until pcap_dispatch returns 0).
    while (session.dispatch(data, header) > 0);
  } finally {
    session.close();
  }
  return { linkName, packets };
}

/**
 * Feeds the packets to the builder at their own pace, looping: a packet is
 * due `offsetUs` after the start of its round, and a round lasts as long as
 * the file plus one average gap between packets.
 */
export class ReplayPacer {
  private readonly roundUs: number;
  private readonly startUs: number;
  private round = 0;
  private next = 0;
  private replayed = 0;

  constructor(
    private readonly packets: readonly ReplayPacket[],
    private readonly builder: PcapChunkBuilder,
    private readonly nowUs: () => number,
  ) {
    const last = packets.at(-1)?.offsetUs ?? 0;
    const gap = packets.length > 1 ? last / (packets.length - 1) : 1_000_000;
    this.roundUs = Math.max(1000, Math.round(last + gap));
    this.startUs = nowUs();
  }

  /** Hands over every packet due by now; returns how many. */
  pump(): number {
    const now = this.nowUs();
    let count = 0;
    while (this.packets.length > 0) {
      const packet = this.packets[this.next]!;
      const dueUs = this.startUs + this.round * this.roundUs + packet.offsetUs;
      if (dueUs > now) break;
      this.builder.add(
        Math.floor(dueUs / 1_000_000),
        dueUs % 1_000_000,
        packet.data,
        packet.data.length,
        packet.wireLength,
      );
      count++;
      this.next++;
      if (this.next === this.packets.length) {
        this.next = 0;
        this.round++;
      }
    }
    this.replayed += count;
    return count;
  }

  /** A replay drops nothing: every packet it hands over counts as received. */
  stats(): CaptureStats {
    return { received: this.replayed >>> 0, dropped: 0, interfaceDropped: 0 };
  }
}
