// Chunk uploads: one line of JSON metadata, "\n", then a classic pcap file.
// JSON.stringify never writes a raw newline, so the first "\n" ends the metadata.

import { summarizePcap } from "../pcap.ts";
import { concatParts, joinMetadataAndPcap, splitMetadataAndPcap, type DecodeResult } from "./decoding.ts";
import { ZChunkMetadataSchema, type ChunkMetadata } from "./messages.ts";

export function encodeChunkUpload(metadata: ChunkMetadata, pcap: Uint8Array): Uint8Array {
  return concatParts(encodeChunkUploadParts(metadata, pcap));
}

/**
 * The same body as `encodeChunkUpload`, as two parts to send one after the
 * other: the metadata line (with its "\n") and the pcap itself, not copied.
 * Sign the parts (`signRequest` takes them as the body) and send them with a
 * Content-Length of their sum; on the wire nothing tells the two apart.
 */
export function encodeChunkUploadParts(
  metadata: ChunkMetadata,
  pcap: Uint8Array,
): [head: Uint8Array, pcap: Uint8Array] {
  return joinMetadataAndPcap("encodeChunkUpload", ZChunkMetadataSchema.parse(metadata), pcap);
}

/** Splits and checks a chunk upload: the metadata must agree with the pcap it describes. */
export function decodeChunkUpload(
  body: Uint8Array,
): DecodeResult<{ metadata: ChunkMetadata; pcap: Uint8Array }> {
  const split = splitMetadataAndPcap(body, ZChunkMetadataSchema);
  if (!split.ok) return split;
  const { metadata, pcap } = split.value;
  const summary = summarizePcap(pcap);
  if (!summary.ok) return { ok: false, reason: "invalid_body", message: summary.message };
  const { packetCount, firstPacketAtUs, lastPacketAtUs } = summary.summary;
  if (
    packetCount !== metadata.packetCount ||
    firstPacketAtUs !== metadata.firstPacketAtUs ||
    lastPacketAtUs !== metadata.lastPacketAtUs
  ) {
    return {
      ok: false,
      reason: "invalid_body",
      message: `metadata (${metadata.packetCount} packets, ${metadata.firstPacketAtUs}–${metadata.lastPacketAtUs} µs) does not match the pcap (${packetCount} packets, ${firstPacketAtUs}–${lastPacketAtUs} µs)`,
    };
  }
  return { ok: true, value: { metadata, pcap } };
}
