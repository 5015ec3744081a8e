// Packet chunks to the collector: each sealed chunk goes out as one signed
// upload (metadata line, then the pcap), through the bandwidth-capped,
// bounded ChunkForwarder.

import {
  CONTENT_TYPES,
  encodeChunkUploadParts,
  INGEST_PATHS,
  PROTOCOL_VERSION,
  type AgentIdentity,
} from "@tapfleet/sensor/protocol";
import type { ResolvedSensorSettings } from "@tapfleet/sensor/settings";
import { ChunkForwarder, type ChunkSendOutcome } from "./chunk-forwarder.ts";
import type { CollectorClient } from "./collector-client.ts";
import type { Logger } from "./logger.ts";

export interface CreateChunkUploaderOptions {
  client: Pick<CollectorClient, "post">;
  /** The agent's identity for a chunk with this sequence number. */
  identity: (sequence: number) => AgentIdentity;
  settings: Pick<ResolvedSensorSettings, "uploadBytesPerSecond" | "chunkMaxBytes">;
  maxQueuedChunks: number;
  now: () => number;
  log: Logger;
}

/** A forwarder that uploads chunks to the collector and releases each one's buffer once sent or dropped. */
export function createChunkUploader(options: CreateChunkUploaderOptions): ChunkForwarder {
  const { client, identity, log } = options;
  let sequence = 0;
  return new ChunkForwarder({
    bytesPerSecond: options.settings.uploadBytesPerSecond,
    chunkMaxBytes: options.settings.chunkMaxBytes,
    maxQueuedChunks: options.maxQueuedChunks,
    concurrency: 2,
    now: options.now,
    send: async (chunk): Promise<ChunkSendOutcome> => {
      // Metadata line and pcap go out one after the other: the chunk is not
      // copied into an upload body, and its buffer is released once sent.
      const parts = encodeChunkUploadParts(
        {
          protocolVersion: PROTOCOL_VERSION,
          agent: identity(sequence++),
          interface: chunk.interfaceName,
          firstPacketAtUs: chunk.firstPacketAtUs,
          lastPacketAtUs: chunk.lastPacketAtUs,
          packetCount: chunk.packetCount,
          pcapBytes: chunk.pcap.byteLength,
        },
        chunk.pcap,
      );
      const response = await client.post(INGEST_PATHS.chunks, parts, CONTENT_TYPES.chunk);
      log.log(
        2,
        `chunk of ${chunk.packetCount} packets (${parts[0].byteLength + parts[1].byteLength} bytes) from ${chunk.interfaceName} sent: HTTP ${response.status}`,
      );
      if (response.status >= 200 && response.status < 300) return { ok: true };
      return { ok: false, reason: response.status === 413 ? "too_large" : "server_rejected" };
    },
    onDropped: (chunk, reason) => {
      log.log(
        2,
        `chunk of ${chunk.packetCount} packets (${chunk.pcap.byteLength} bytes) from ${chunk.interfaceName} not sent: ${reason}`,
      );
      chunk.release();
    },
    onSent: (chunk) => chunk.release(),
  });
}
