// Joining a sensor's recent chunks into one classic pcap file.
import type { Db } from "@tapfleet/db";
import { AppError } from "../errors.ts";

const GLOBAL_HEADER_BYTES = 24;

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
  const first = Buffer.from(chunks[0]!.pcap);
  const magic = first.subarray(0, 4);
  const linkType = first.subarray(20, 24);
  const header = Buffer.from(first.subarray(0, GLOBAL_HEADER_BYTES));
  const parts: Buffer[] = [header];
  let packets = 0;
  let skippedChunks = 0;
  let used = 0;
  for (const chunk of chunks) {
    const bytes = Buffer.from(chunk.pcap);
    if (!bytes.subarray(0, 4).equals(magic) || !bytes.subarray(20, 24).equals(linkType)) {
      skippedChunks += 1;
      continue;
    }
    // The joined file's snapshot length must admit every chunk's records.
    const snaplenOffset = 16;
    const readSnaplen = (b: Buffer) =>
      magic[0] === 0xd4 || magic[0] === 0x4d ? b.readUInt32LE(snaplenOffset) : b.readUInt32BE(snaplenOffset);
    if (readSnaplen(bytes) > readSnaplen(header))
      bytes.copy(header, snaplenOffset, snaplenOffset, snaplenOffset + 4);
    parts.push(bytes.subarray(GLOBAL_HEADER_BYTES));
    packets += chunk.packetCount;
    used += 1;
  }
  return { file: Buffer.concat(parts), chunks: used, packets, skippedChunks };
}
