// Snapshot sessions on the capture binding: each snapshot interface gets a
// libpcap session of its own, with the same snap length, ring size and read
// timeout as the agent's continuous capture.

import type { OpenCapture } from "../capture.ts";
import type { CapturedPacket, SnapshotSource } from "./snapshot.ts";

export function libpcapSnapshotSource(
  openCapture: OpenCapture,
  settings: { snapLength: number; bufferBytes: number; timeoutMs: number },
): SnapshotSource {
  return {
    open: ({ device, filter, onPacket, onStopped }) => {
      const packet: CapturedPacket = {
        seconds: 0,
        microseconds: 0,
        data: new Uint8Array(0),
        capturedLength: 0,
        wireLength: 0,
      };
      try {
        const session = openCapture({
          device,
          filter,
          snapLength: settings.snapLength,
          bufferBytes: settings.bufferBytes,
          timeoutMs: settings.timeoutMs,
          onPacket: (data, header) => {
            // The header holds tv_sec, tv_usec, caplen, len (host order).
            packet.seconds = header.readUInt32LE(0);
            packet.microseconds = header.readUInt32LE(4);
            packet.capturedLength = header.readUInt32LE(8);
            packet.wireLength = header.readUInt32LE(12);
            packet.data = data;
            onPacket(packet);
          },
          onError: onStopped,
          onWarning: () => undefined,
        });
        return Promise.resolve({ linkType: session.linkType, close: () => session.close() });
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}

/**
 * Calls `onPacket` for every record of a classic pcap file (little-endian, µs), for capture
 * back ends that hand over packets in pcap chunks rather than one by one.
 */
export function forEachPcapRecord(pcap: Uint8Array, onPacket: (packet: CapturedPacket) => void): void {
  const view = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  for (let offset = 24; offset + 16 <= pcap.byteLength;) {
    const capturedLength = view.getUint32(offset + 8, true);
    onPacket({
      seconds: view.getUint32(offset, true),
      microseconds: view.getUint32(offset + 4, true),
      capturedLength,
      wireLength: view.getUint32(offset + 12, true),
      data: pcap.subarray(offset + 16, offset + 16 + capturedLength),
    });
    offset += 16 + capturedLength;
  }
}
