// Packet chunks in classic pcap format (little-endian, microsecond
// timestamps), the format the wire protocol carries. A chunk is sealed when
// the next record would not fit in TAPFLEET_CHUNK_MAX_BYTES or when the
// agent flushes (on a timer, so that quiet interfaces still upload).

import { MessageChannel } from "node:worker_threads";
import {
  PCAP_GLOBAL_HEADER_BYTES,
  PCAP_RECORD_HEADER_BYTES,
  writePcapGlobalHeader,
  writePcapRecordHeader,
} from "@tapfleet/sensor/pcap";

/** A sealed chunk as its builder hands it over: the buffer now belongs to the receiver. */
export interface PcapChunk {
  interfaceName: string;
  pcap: Buffer;
  packetCount: number;
  firstPacketAtUs: number;
  lastPacketAtUs: number;
}

/** A chunk on its way to the collector. */
export interface SealedChunk extends PcapChunk {
  /** Hands the memory back for a later chunk; call once `pcap` is no longer needed (sent or dropped). */
  release(): void;
}

/** Full-size buffers kept per interface for reuse. */
const SPARE_BUFFERS = 3;

/**
 * Frees a buffer's memory now instead of at some later garbage collection
 * (V8 lets megabytes of unreferenced buffers pile up first, and they count
 * in the agent's resident memory): its ArrayBuffer is transferred into a
 * message on a channel that is closed before the message is delivered.
 * The buffer must not be used afterwards; every buffer here owns its
 * ArrayBuffer (allocUnsafeSlow), so nothing else loses memory.
 */
function discard(buffer: Buffer): void {
  const channel = new MessageChannel();
  channel.port1.postMessage(null, [buffer.buffer as ArrayBuffer]);
  channel.port1.close();
  channel.port2.close();
}
const INITIAL_BUFFER_BYTES = 64 * 1024;

export class PcapChunkBuilder {
  private buffer: Buffer;
  private used = PCAP_GLOBAL_HEADER_BYTES;
  private packetCount = 0;
  private firstPacketAtUs = 0;
  private lastPacketAtUs = 0;
  // A busy interface fills chunk after chunk: it gets full-size buffers
  // straight away, recycled once sent, instead of growing (and copying) a
  // small one each time. A few are kept; more would stay resident after a
  // burst in which the main thread fell behind (measured: keeping all of
  // them raised the peak), so the rest are freed at once (`discard`).
  private busy = false;
  private readonly spare: Buffer[] = [];
  private smallSpare: Buffer | undefined;

  constructor(
    readonly interfaceName: string,
    private readonly linkType: number,
    private readonly maxBytes: number,
    private readonly snapLength: number,
    private readonly onSealed: (chunk: PcapChunk) => void,
  ) {
    this.buffer = this.freshBuffer();
  }

  // Buffers start small and double up to the chunk limit: an agent watches
  // many quiet interfaces (one veth per pod) and a full-size buffer for each
  // would cost more memory than the traffic.
  private freshBuffer(): Buffer {
    // allocUnsafeSlow: a buffer of its own (never a slice of the shared pool), so it can be transferred.
    const buffer = this.busy
      ? (this.spare.pop() ?? Buffer.allocUnsafeSlow(this.maxBytes))
      : (this.takeSmallSpare() ?? Buffer.allocUnsafeSlow(Math.min(INITIAL_BUFFER_BYTES, this.maxBytes)));
    writePcapGlobalHeader(buffer, { linkType: this.linkType, snapLength: this.snapLength });
    return buffer;
  }

  /**
   * Appends one packet. A packet too big for an empty chunk is cut to fit
   * (pcap records carry the original length, so nothing lies about it).
   */
  add(
    seconds: number,
    microseconds: number,
    data: Uint8Array,
    capturedLength: number,
    wireLength: number,
  ): void {
    const room = this.maxBytes - PCAP_GLOBAL_HEADER_BYTES - PCAP_RECORD_HEADER_BYTES;
    const length = Math.min(capturedLength, room);
    if (this.used + PCAP_RECORD_HEADER_BYTES + length > this.maxBytes) this.seal(true);
    const needed = this.used + PCAP_RECORD_HEADER_BYTES + length;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.min(this.maxBytes, Math.max(needed, this.buffer.length * 2)));
      this.buffer.copy(grown, 0, 0, this.used);
      discard(this.buffer);
      this.buffer = grown;
    }
    const buffer = this.buffer;
    let at = this.used;
    writePcapRecordHeader(buffer, at, seconds, microseconds, length, wireLength);
    at += PCAP_RECORD_HEADER_BYTES;
    // Most packets are small: a byte loop costs less than the view `subarray` would allocate.
    if (length <= 128) for (let index = 0; index < length; index++) buffer[at + index] = data[index]!;
    else buffer.set(data.subarray(0, length), at);
    this.used = at + length;
    const atUs = seconds * 1_000_000 + microseconds;
    if (this.packetCount === 0) this.firstPacketAtUs = atUs;
    this.lastPacketAtUs = atUs;
    this.packetCount++;
  }

  get pendingPackets(): number {
    return this.packetCount;
  }

  /** Seals the current chunk if it holds any packet. */
  flush(): void {
    this.seal(false);
  }

  private takeSmallSpare(): Buffer | undefined {
    const buffer = this.smallSpare;
    this.smallSpare = undefined;
    return buffer;
  }

  /** Takes back the buffer of a chunk that has been sent or dropped. */
  recycle(buffer: Buffer): void {
    if (buffer.length === this.maxBytes) {
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(buffer);
      else discard(buffer);
    } else if (buffer.length === Math.min(INITIAL_BUFFER_BYTES, this.maxBytes)) this.smallSpare = buffer;
  }

  /** Full-size buffers waiting for reuse (for tests and logs). */
  get spareBuffers(): number {
    return this.spare.length;
  }

  private seal(full: boolean): void {
    if (this.packetCount === 0) return;
    // Busy: the chunk filled up, or got half way before the timer sealed it.
    this.busy = full || this.used * 2 >= this.maxBytes;
    const chunk: PcapChunk = {
      interfaceName: this.interfaceName,
      // The filled part only; the next chunk gets another buffer, so no copy is needed.
      pcap: this.buffer.subarray(0, this.used),
      packetCount: this.packetCount,
      firstPacketAtUs: this.firstPacketAtUs,
      lastPacketAtUs: this.lastPacketAtUs,
    };
    this.buffer = this.freshBuffer();
    this.used = PCAP_GLOBAL_HEADER_BYTES;
    this.packetCount = 0;
    this.onSealed(chunk);
  }
}
