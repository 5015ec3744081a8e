// Snapshot sessions on the capture thread (../capture.ts): each snapshot
// interface gets a libpcap session of its own, with the same snap length,
// ring size and read timeout as the agent's continuous capture. The thread
// hands over what each read brought at once (`eager`), so packets reach the
// snapshot within a read timeout, as they would from a session of its own.

import { forEachPcapRecord } from "@tapfleet/sensor/pcap";
import type { Capture } from "../capture.ts";
import type { SnapshotSource } from "./snapshot.ts";

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
              if (open)
                forEachPcapRecord(chunk.pcap, (at, capturedLength, wireLength, seconds, microseconds) =>
                  onPacket({
                    seconds,
                    microseconds,
                    capturedLength,
                    wireLength,
                    data: chunk.pcap.subarray(at, at + capturedLength),
                  }),
                );
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
