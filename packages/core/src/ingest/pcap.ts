// Joining a sensor's recent chunks into one classic pcap file.
import type { Db } from "@tapfleet/db";
import { PCAP_GLOBAL_HEADER_BYTES, readPcapGlobalHeader, writePcapGlobalHeader } from "@tapfleet/sensor/pcap";
import { AppError } from "../errors.ts";

export interface SensorPcap {
  file: Buffer;
  chunks: number;
  packets: number;
  /** Chunks left out because their link type or byte order differs from the first one's. */
  skippedChunks: number;
}

/** The sensor's chunk ring, oldest first, as one pcap (optionally one interface only). */
export async function readSensorPcap(options: {
  db: Db;
  sensorId: string;
  interface?: string | undefined;
}): Promise<SensorPcap> {
  const sensor = await options.db.sensor.findUnique({
    where: { id: options.sensorId },
    select: { id: true },
  });
  if (!sensor) throw new AppError("NOT_FOUND", { userMessage: "No such sensor." });
  const chunks = await options.db.packetChunk.findMany({
    where: { sensorId: sensor.id, ...(options.interface ? { interface: options.interface } : {}) },
    orderBy: { id: "asc" },
    select: { pcap: true, packetCount: true },
  });
  if (chunks.length === 0) {
    throw new AppError("NOT_FOUND", {
      userMessage:
        "This sensor has sent no packet chunks yet (they are kept only for the most recent traffic).",
    });
  }
  // Stored chunks were checked at ingest: a header that does not read now is an internal error.
  const first = readPcapGlobalHeader(chunks[0]!.pcap);
  let snapLength = first.snapLength;
  const parts: Uint8Array[] = [];
  let packets = 0;
  let skippedChunks = 0;
  let used = 0;
  for (const chunk of chunks) {
    const header = readPcapGlobalHeader(chunk.pcap);
    if (
      header.littleEndian !== first.littleEndian ||
      header.nanoseconds !== first.nanoseconds ||
      header.linkType !== first.linkType
    ) {
      skippedChunks += 1;
      continue;
    }
    // The joined file's snapshot length must admit every chunk's records.
    snapLength = Math.max(snapLength, header.snapLength);
    parts.push(chunk.pcap.subarray(PCAP_GLOBAL_HEADER_BYTES));
    packets += chunk.packetCount;
    used += 1;
  }
  const header = new Uint8Array(PCAP_GLOBAL_HEADER_BYTES);
  writePcapGlobalHeader(header, { ...first, snapLength });
  return { file: Buffer.concat([header, ...parts]), chunks: used, packets, skippedChunks };
}
