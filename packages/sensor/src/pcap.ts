// Classic pcap, libpcap's savefile format: the one place that knows its
// global header (magic, version, snap length, link type) and its record
// header (seconds, fraction, captured length, wire length). The agent writes
// chunks and snapshots with it, the server checks and joins them, and tests
// build and read files with it. Pure: plain Uint8Array, no node: imports.
//
// Layout (every field in the byte order its magic number shows):
//   global header, 24 bytes: magic u32, version major u16, minor u16,
//     thiszone i32, sigfigs u32, snaplen u32, linktype u32 (upper 4 bits: FCS)
//   record header, 16 bytes: ts_sec u32, ts_usec (or ts_nsec) u32,
//     incl_len u32, orig_len u32; then incl_len captured bytes

/** The magic number, which also tells the timestamp precision (and, read back, the byte order). */
export const PCAP_MAGIC = { microseconds: 0xa1b2c3d4, nanoseconds: 0xa1b23c4d } as const;
/** The format version every writer uses; readers accept any 2.x, as libpcap does. */
export const PCAP_VERSION = { major: 2, minor: 4 } as const;
export const PCAP_GLOBAL_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;
/** The largest record a reader accepts: libpcap's own bound on a snap length. */
export const PCAP_MAX_RECORD_BYTES = 262_144;

/** pcap LINKTYPE_* values, as written in a pcap file header. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IEEE802_11_RADIO: 127,
  LINUX_SLL2: 276,
} as const;

/** A file that is not classic pcap, or is cut short; `offset` is the byte where reading stopped. */
export class PcapFormatError extends Error {
  override name = "PcapFormatError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface PcapGlobalHeader {
  littleEndian: boolean;
  /** Record fractions are nanoseconds (magic 0xa1b23c4d), not microseconds. */
  nanoseconds: boolean;
  versionMajor: number;
  versionMinor: number;
  snapLength: number;
  /** LINKTYPE_* (the FCS bits above it left out). */
  linkType: number;
}

export interface PcapHeaderOptions {
  linkType: number;
  snapLength: number;
  /** Default true: every writer of ours writes little-endian. */
  littleEndian?: boolean | undefined;
  /** Default false: microsecond timestamps. */
  nanoseconds?: boolean | undefined;
}

// Byte by byte rather than through a DataView: the agent writes a record
// header per captured packet, and a view per call would be an allocation.
function setUint32(target: Uint8Array, at: number, value: number, littleEndian: boolean): void {
  if (littleEndian) {
    target[at] = value & 0xff;
    target[at + 1] = (value >>> 8) & 0xff;
    target[at + 2] = (value >>> 16) & 0xff;
    target[at + 3] = value >>> 24;
  } else {
    target[at] = value >>> 24;
    target[at + 1] = (value >>> 16) & 0xff;
    target[at + 2] = (value >>> 8) & 0xff;
    target[at + 3] = value & 0xff;
  }
}

function setUint16(target: Uint8Array, at: number, value: number, littleEndian: boolean): void {
  target[at + (littleEndian ? 0 : 1)] = value & 0xff;
  target[at + (littleEndian ? 1 : 0)] = (value >>> 8) & 0xff;
}

/** Writes the 24-byte global header at `offset` of `target`. */
export function writePcapGlobalHeader(target: Uint8Array, options: PcapHeaderOptions, offset = 0): void {
  const little = options.littleEndian ?? true;
  const magic = options.nanoseconds === true ? PCAP_MAGIC.nanoseconds : PCAP_MAGIC.microseconds;
  setUint32(target, offset, magic, little);
  setUint16(target, offset + 4, PCAP_VERSION.major, little);
  setUint16(target, offset + 6, PCAP_VERSION.minor, little);
  setUint32(target, offset + 8, 0, little); // thiszone: timestamps are UTC
  setUint32(target, offset + 12, 0, little); // sigfigs: always 0 in practice
  setUint32(target, offset + 16, options.snapLength, little);
  setUint32(target, offset + 20, options.linkType, little);
}

/**
 * Writes one 16-byte record header at `offset` of `target`; `fraction` is
 * microseconds (or nanoseconds in a nanosecond file). Positional rather than
 * an options object: it runs for every captured packet.
 */
export function writePcapRecordHeader(
  target: Uint8Array,
  offset: number,
  seconds: number,
  fraction: number,
  capturedLength: number,
  wireLength: number,
  littleEndian = true,
): void {
  setUint32(target, offset, seconds, littleEndian);
  setUint32(target, offset + 4, fraction, littleEndian);
  setUint32(target, offset + 8, capturedLength, littleEndian);
  setUint32(target, offset + 12, wireLength, littleEndian);
}

/** Reads and checks the global header; throws PcapFormatError on anything but classic pcap 2.x. */
export function readPcapGlobalHeader(pcap: Uint8Array): PcapGlobalHeader {
  if (pcap.byteLength < PCAP_GLOBAL_HEADER_BYTES)
    throw new PcapFormatError(
      `pcap is shorter than its ${PCAP_GLOBAL_HEADER_BYTES}-byte header (${pcap.byteLength} bytes)`,
      0,
    );
  const view = new DataView(pcap.buffer, pcap.byteOffset, PCAP_GLOBAL_HEADER_BYTES);
  const magics: number[] = [PCAP_MAGIC.microseconds, PCAP_MAGIC.nanoseconds];
  let littleEndian: boolean;
  if (magics.includes(view.getUint32(0, false))) littleEndian = false;
  else if (magics.includes(view.getUint32(0, true))) littleEndian = true;
  else
    throw new PcapFormatError(
      `not a classic pcap file (bad magic number 0x${view.getUint32(0, false).toString(16).padStart(8, "0")})`,
      0,
    );
  const versionMajor = view.getUint16(4, littleEndian);
  const versionMinor = view.getUint16(6, littleEndian);
  if (versionMajor !== PCAP_VERSION.major)
    throw new PcapFormatError(
      `unsupported pcap version ${versionMajor}.${versionMinor} (expected ${PCAP_VERSION.major}.x)`,
      4,
    );
  return {
    littleEndian,
    nanoseconds: view.getUint32(0, littleEndian) === PCAP_MAGIC.nanoseconds,
    versionMajor,
    versionMinor,
    snapLength: view.getUint32(16, littleEndian),
    linkType: view.getUint32(20, littleEndian) & 0x0fffffff,
  };
}

/**
 * Calls `visit` for every record, in file order, after checking that its
 * header and its captured bytes are all there; `dataOffset` is where the
 * captured bytes start in `pcap`. Throws PcapFormatError on a bad header or
 * a truncated or oversized record (records before it have been visited).
 * Allocates nothing per record: the agent counts every packet with it.
 */
export function forEachPcapRecord(
  pcap: Uint8Array,
  visit: (
    dataOffset: number,
    capturedLength: number,
    wireLength: number,
    seconds: number,
    fraction: number,
  ) => void,
): PcapGlobalHeader {
  const header = readPcapGlobalHeader(pcap);
  const little = header.littleEndian;
  const view = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  let offset = PCAP_GLOBAL_HEADER_BYTES;
  while (offset < pcap.byteLength) {
    if (offset + PCAP_RECORD_HEADER_BYTES > pcap.byteLength)
      throw new PcapFormatError(`truncated record header at byte ${offset}`, offset);
    const captured = view.getUint32(offset + 8, little);
    if (captured > PCAP_MAX_RECORD_BYTES)
      throw new PcapFormatError(`record at byte ${offset} claims ${captured} bytes`, offset);
    const dataOffset = offset + PCAP_RECORD_HEADER_BYTES;
    if (dataOffset + captured > pcap.byteLength)
      throw new PcapFormatError(`truncated record at byte ${offset}`, offset);
    visit(
      dataOffset,
      captured,
      view.getUint32(offset + 12, little),
      view.getUint32(offset, little),
      view.getUint32(offset + 4, little),
    );
    offset = dataOffset + captured;
  }
  return header;
}

/** A record's timestamp in epoch microseconds (a nanosecond fraction rounded down). */
export function pcapTimestampUs(seconds: number, fraction: number, nanoseconds: boolean): number {
  return seconds * 1_000_000 + (nanoseconds ? Math.floor(fraction / 1000) : fraction);
}

export interface PcapRecord {
  /** Epoch microseconds. */
  atUs: number;
  seconds: number;
  /** Microseconds, or nanoseconds in a nanosecond file. */
  fraction: number;
  /** The captured bytes (a view into the file, not a copy). */
  data: Uint8Array;
  wireLength: number;
}

/** The header and every record of a file; throws PcapFormatError as forEachPcapRecord does. */
export function readPcap(pcap: Uint8Array): { header: PcapGlobalHeader; records: PcapRecord[] } {
  const { nanoseconds } = readPcapGlobalHeader(pcap);
  const records: PcapRecord[] = [];
  const header = forEachPcapRecord(pcap, (dataOffset, capturedLength, wireLength, seconds, fraction) => {
    records.push({
      atUs: pcapTimestampUs(seconds, fraction, nanoseconds),
      seconds,
      fraction,
      data: pcap.subarray(dataOffset, dataOffset + capturedLength),
      wireLength,
    });
  });
  return { header, records };
}

export interface PcapRecordInput {
  seconds: number;
  /** Microseconds (nanoseconds with `nanoseconds: true`). */
  fraction: number;
  data: Uint8Array;
  /** Length on the wire; defaults to the captured length. */
  wireLength?: number | undefined;
}

/** One whole file: the global header, then the records in the order given. */
export function encodePcap(options: PcapHeaderOptions & { records: readonly PcapRecordInput[] }): Uint8Array {
  const little = options.littleEndian ?? true;
  let size = PCAP_GLOBAL_HEADER_BYTES;
  for (const record of options.records) size += PCAP_RECORD_HEADER_BYTES + record.data.byteLength;
  const file = new Uint8Array(size);
  writePcapGlobalHeader(file, options);
  let offset = PCAP_GLOBAL_HEADER_BYTES;
  for (const record of options.records) {
    const length = record.data.byteLength;
    writePcapRecordHeader(
      file,
      offset,
      record.seconds,
      record.fraction,
      length,
      record.wireLength ?? length,
      little,
    );
    file.set(record.data, offset + PCAP_RECORD_HEADER_BYTES);
    offset += PCAP_RECORD_HEADER_BYTES + length;
  }
  return file;
}

export interface PcapSummary {
  packetCount: number;
  firstPacketAtUs: number;
  lastPacketAtUs: number;
  linkType: number;
}

/** Walks a classic pcap file (either byte order, µs or ns timestamps) and checks every record fits. */
export function summarizePcap(
  pcap: Uint8Array,
): { ok: true; summary: PcapSummary } | { ok: false; message: string } {
  let packetCount = 0;
  let first = 0;
  let last = 0;
  let nanoseconds = false;
  try {
    // The precision is known once the header is read, before the first record.
    nanoseconds = readPcapGlobalHeader(pcap).nanoseconds;
    const { linkType } = forEachPcapRecord(pcap, (_dataOffset, _captured, _wire, seconds, fraction) => {
      const atUs = pcapTimestampUs(seconds, fraction, nanoseconds);
      if (packetCount === 0) first = atUs;
      last = atUs;
      packetCount++;
    });
    return { ok: true, summary: { packetCount, firstPacketAtUs: first, lastPacketAtUs: last, linkType } };
  } catch (error) {
    if (error instanceof PcapFormatError) return { ok: false, message: error.message };
    throw error;
  }
}
