// Per-interface counters. Packet, byte and protocol counters are cumulative
// since agent start, as the protocol asks (a lost report loses nothing);
// top talkers cover the last report interval. libpcap's drop counters are
// 32-bit and restart with each capture session, so they are accumulated
// here as wrapping differences.

import { forEachPcapRecord } from "@tapfleet/sensor/pcap";
import { MAX_TOP_TALKERS, type InterfaceStats, type ProtocolMix } from "@tapfleet/sensor/protocol";
import type { CaptureStats } from "./capture.ts";
import { decodePacket, emptyDecodedPacket, formatIpv4, type DecodedPacket } from "./decode.ts";

interface Talker {
  packets: number;
  bytes: number;
}

/** Distinct addresses tracked per interval; beyond it new addresses are not counted (a scan must not grow memory). */
export const MAX_TRACKED_TALKERS = 10_000;

const U32 = 2 ** 32;

/** recordChunk's decoder output, reused: counting a packet allocates nothing. */
const scratch: DecodedPacket = emptyDecodedPacket();

export class InterfaceCounters {
  packets = 0;
  bytes = 0;
  readonly protocols: ProtocolMix = { ipv4: 0, ipv6: 0, tcp: 0, udp: 0, icmp: 0, other: 0 };
  private kernelDrops = 0;
  private interfaceDrops = 0;
  private lastRaw: CaptureStats = { received: 0, dropped: 0, interfaceDropped: 0 };
  private talkersV4 = new Map<number, Talker>();
  private talkersV6 = new Map<string, Talker>();

  constructor(readonly name: string) {}

  /** Counts one packet; `wireLength` is its length on the wire (pcap's len, not caplen). */
  record(decoded: DecodedPacket, wireLength: number): void {
    this.packets++;
    this.bytes += wireLength;
    if (decoded.network === 0) return;
    let talker: Talker | undefined;
    if (decoded.network === 4) {
      this.protocols.ipv4++;
      talker = this.talkersV4.get(decoded.sourceV4);
      if (talker === undefined && this.talkersV4.size + this.talkersV6.size < MAX_TRACKED_TALKERS) {
        talker = { packets: 0, bytes: 0 };
        this.talkersV4.set(decoded.sourceV4, talker);
      }
    } else {
      this.protocols.ipv6++;
      talker = this.talkersV6.get(decoded.sourceV6);
      if (talker === undefined && this.talkersV4.size + this.talkersV6.size < MAX_TRACKED_TALKERS) {
        talker = { packets: 0, bytes: 0 };
        this.talkersV6.set(decoded.sourceV6, talker);
      }
    }
    if (talker !== undefined) {
      talker.packets++;
      talker.bytes += wireLength;
    }
    if (decoded.transport !== undefined) this.protocols[decoded.transport]++;
  }

  /**
   * Counts every packet of a chunk in classic pcap format (as PcapChunkBuilder
   * writes it), one walk per chunk that allocates nothing per packet. `each`
   * sees every record's captured bytes (for hex dumps).
   */
  recordChunk(
    linkType: number,
    pcap: Uint8Array,
    each?: (data: Uint8Array, wireLength: number) => void,
  ): void {
    const decoded = scratch;
    forEachPcapRecord(pcap, (at, captured, wireLength) => {
      decodePacket(linkType, pcap, captured, decoded, at);
      this.record(decoded, wireLength);
      each?.(pcap.subarray(at, at + captured), wireLength);
    });
  }

  /** Folds in libpcap's counters for the current session (call with every reading, and once at session close). */
  updateDrops(raw: CaptureStats): void {
    this.kernelDrops += (raw.dropped - this.lastRaw.dropped + U32) % U32;
    this.interfaceDrops += (raw.interfaceDropped - this.lastRaw.interfaceDropped + U32) % U32;
    this.lastRaw = raw;
  }

  /** A new capture session starts its counters from zero. */
  sessionRestarted(): void {
    this.lastRaw = { received: 0, dropped: 0, interfaceDropped: 0 };
  }

  /** The report entry; top talkers are those of the interval that ends now, and the interval restarts. */
  takeSnapshot(): InterfaceStats {
    const talkers: Array<{ address: string; packets: number; bytes: number }> = [];
    for (const [address, talker] of this.talkersV4) talkers.push({ address: formatIpv4(address), ...talker });
    for (const [address, talker] of this.talkersV6) talkers.push({ address, ...talker });
    talkers.sort((a, b) => b.bytes - a.bytes || b.packets - a.packets || (a.address < b.address ? -1 : 1));
    this.talkersV4 = new Map();
    this.talkersV6 = new Map();
    return {
      name: this.name,
      packets: this.packets,
      bytes: this.bytes,
      kernelDrops: this.kernelDrops,
      interfaceDrops: this.interfaceDrops,
      protocols: { ...this.protocols },
      topTalkers: talkers.slice(0, MAX_TOP_TALKERS),
    };
  }
}
