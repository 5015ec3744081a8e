// Snapshot sessions on the capture thread (../capture.ts): each snapshot
// interface gets a libpcap session of its own, with the same snap length,
// ring size and read timeout as the agent's continuous capture. The thread
// hands over what each read brought at once (`eager`), so packets reach the
// snapshot within a read timeout, as they would from a session of its own.

import type { Capture } from "../capture.ts";
import type { CapturedPacket, SnapshotSource } from "./snapshot.ts";

/** Chunks of a snapshot session: small, as each read is handed over at once. */
const SNAPSHOT_CHUNK_BYTES = 256 * 1024;

export function captureThreadSnapshotSource(
  capture: Capture,
  settings: { snapLength: number; bufferBytes: number; timeoutMs: number },
): SnapshotSource {
  return {
    open: async ({ device, filter, onPacket, onStopped }) => {
      let open = true;
      const session = await capture.open(
        {
          device,
          filter,
          snapLength: settings.snapLength,
          bufferBytes: settings.bufferBytes,
          timeoutMs: settings.timeoutMs,
          chunkMaxBytes: SNAPSHOT_CHUNK_BYTES,
          eager: true,
        },
        {
          onChunk: (chunk) => {
            try {
              if (open) forEachPcapRecord(chunk.pcap, onPacket);
            } finally {
              chunk.release();
            }
          },
          onStopped,
        },
      );
      return {
        linkType: session.linkType,
        close: () => {
          open = false;
          void capture.close(session);
        },
      };
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
