import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  encodePcap,
  forEachPcapRecord,
  LINKTYPE,
  PCAP_GLOBAL_HEADER_BYTES,
  PCAP_RECORD_HEADER_BYTES,
  PcapFormatError,
  readPcap,
  readPcapGlobalHeader,
  summarizePcap,
  writePcapGlobalHeader,
  writePcapRecordHeader,
} from "./pcap.ts";

/** A 60-byte Ethernet frame whose last byte is `marker`. */
const frame = (marker: number): Uint8Array => {
  const bytes = new Uint8Array(60);
  bytes[59] = marker;
  return bytes;
};

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("pcap headers, byte for byte", () => {
  it("writes the little-endian microsecond global header that libpcap writes", () => {
    const header = new Uint8Array(PCAP_GLOBAL_HEADER_BYTES);
    writePcapGlobalHeader(header, { linkType: LINKTYPE.ETHERNET, snapLength: 65535 });
    expect(hex(header)).toBe(
      "d4c3b2a1" + "0200" + "0400" + "00000000" + "00000000" + "ffff0000" + "01000000",
    );
  });

  it("writes a big-endian nanosecond global header at an offset", () => {
    const header = new Uint8Array(2 + PCAP_GLOBAL_HEADER_BYTES).fill(0xee);
    writePcapGlobalHeader(
      header,
      { linkType: LINKTYPE.LINUX_SLL2, snapLength: 262144, littleEndian: false, nanoseconds: true },
      2,
    );
    expect(hex(header)).toBe(
      "eeee" + "a1b23c4d" + "0002" + "0004" + "00000000" + "00000000" + "00040000" + "00000114",
    );
  });

  it.each([
    [true, "00e1f505" + "40e20100" + "3c000000" + "ea050000"],
    [false, "05f5e100" + "0001e240" + "0000003c" + "000005ea"],
  ])("writes a record header (little-endian: %s)", (littleEndian, expected) => {
    const record = new Uint8Array(PCAP_RECORD_HEADER_BYTES);
    writePcapRecordHeader(record, 0, 100_000_000, 123_456, 60, 1514, littleEndian);
    expect(hex(record)).toBe(expected);
  });
});

describe("pcap round trip", () => {
  it.each([
    { littleEndian: true, nanoseconds: false },
    { littleEndian: false, nanoseconds: false },
    { littleEndian: true, nanoseconds: true },
    { littleEndian: false, nanoseconds: true },
  ])("reads back what it wrote: %o", (format) => {
    const records = [
      { seconds: 1_763_800_000, fraction: 5, data: frame(1) },
      { seconds: 1_763_800_001, fraction: 250_000, data: frame(2), wireLength: 1514 },
      { seconds: 1_763_800_002, fraction: 999_999, data: new Uint8Array(0) },
    ];
    const file = encodePcap({ linkType: LINKTYPE.RAW, snapLength: 1600, ...format, records });
    expect(file.byteLength).toBe(PCAP_GLOBAL_HEADER_BYTES + 3 * PCAP_RECORD_HEADER_BYTES + 120);

    const { header, records: read } = readPcap(file);
    expect(header).toEqual({
      ...format,
      versionMajor: 2,
      versionMinor: 4,
      snapLength: 1600,
      linkType: LINKTYPE.RAW,
    });
    const scale = format.nanoseconds ? 1000 : 1;
    expect(read.map((record) => [record.atUs, record.fraction, hex(record.data), record.wireLength])).toEqual(
      [
        [1_763_800_000_000_000 + Math.floor(5 / scale), 5, hex(frame(1)), 60],
        [1_763_800_001_000_000 + 250_000 / scale, 250_000, hex(frame(2)), 1514],
        [1_763_800_002_000_000 + Math.floor(999_999 / scale), 999_999, "", 0],
      ],
    );
    expect(summarizePcap(file)).toEqual({
      ok: true,
      summary: {
        packetCount: 3,
        firstPacketAtUs: read[0]!.atUs,
        lastPacketAtUs: read[2]!.atUs,
        linkType: LINKTYPE.RAW,
      },
    });
  });

  it("reads a file that starts inside a larger buffer", () => {
    const file = encodePcap({
      linkType: LINKTYPE.ETHERNET,
      snapLength: 65535,
      records: [{ seconds: 1, fraction: 2, data: frame(7) }],
    });
    const inside = new Uint8Array(file.byteLength + 10);
    inside.set(file, 5);
    const { records } = readPcap(inside.subarray(5, 5 + file.byteLength));
    expect(records.map((record) => [record.atUs, record.data[59]])).toEqual([[1_000_002, 7]]);
  });

  it("visits records with the offset of their captured bytes", () => {
    const file = encodePcap({
      linkType: LINKTYPE.ETHERNET,
      snapLength: 65535,
      records: [
        { seconds: 1, fraction: 0, data: frame(1) },
        { seconds: 2, fraction: 0, data: frame(2).subarray(0, 20), wireLength: 60 },
      ],
    });
    const seen: number[][] = [];
    forEachPcapRecord(file, (dataOffset, captured, wire, seconds) =>
      seen.push([dataOffset, captured, wire, seconds]),
    );
    expect(seen).toEqual([
      [24 + 16, 60, 60, 1],
      [24 + 16 + 60 + 16, 20, 60, 2],
    ]);
  });

  // tcpdump reads the files through libpcap itself: the format is the real one, not just self-consistent.
  it.each([
    { littleEndian: true, nanoseconds: false, flags: [], stamp: "1763800001.250000" },
    { littleEndian: false, nanoseconds: true, flags: ["--nano"], stamp: "1763800001.250000000" },
  ])("is read by libpcap (tcpdump): %o", ({ flags, stamp, ...format }) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tapfleet-pcap-"));
    try {
      const file = path.join(dir, "capture.pcap");
      writeFileSync(
        file,
        encodePcap({
          linkType: LINKTYPE.ETHERNET,
          snapLength: 65535,
          ...format,
          records: [
            { seconds: 1_763_800_000, fraction: 5, data: frame(1) },
            {
              seconds: 1_763_800_001,
              fraction: format.nanoseconds ? 250_000_000 : 250_000,
              data: frame(2),
              wireLength: 1514,
            },
          ],
        }),
      );
      const lines = execFileSync("tcpdump", ["-r", file, "-nn", "-tt", ...flags], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      })
        .trim()
        .split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(new RegExp(`^${stamp.replace(".", "\\.")} `));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("pcap refusals", () => {
  const good = encodePcap({
    linkType: LINKTYPE.ETHERNET,
    snapLength: 65535,
    records: [
      { seconds: 1, fraction: 0, data: frame(1) },
      { seconds: 2, fraction: 0, data: frame(2) },
    ],
  });
  const edited = (edit: (file: Uint8Array) => void): Uint8Array => {
    const file = good.slice();
    edit(file);
    return file;
  };
  const secondRecord = PCAP_GLOBAL_HEADER_BYTES + PCAP_RECORD_HEADER_BYTES + 60;

  it.each<[string, Uint8Array, string, number]>([
    ["an empty file", new Uint8Array(0), "pcap is shorter than its 24-byte header (0 bytes)", 0],
    [
      "a truncated global header",
      good.subarray(0, 23),
      "pcap is shorter than its 24-byte header (23 bytes)",
      0,
    ],
    [
      "a garbled magic number",
      edited((file) => (file[0] = 0x00)),
      "not a classic pcap file (bad magic number 0x00c3b2a1)",
      0,
    ],
    [
      "a pcapng file",
      edited((file) => file.set([0x0a, 0x0d, 0x0d, 0x0a], 0)),
      "bad magic number 0x0a0d0d0a",
      0,
    ],
    ["an unknown version", edited((file) => (file[4] = 1)), "unsupported pcap version 1.4 (expected 2.x)", 4],
    [
      "a truncated record header",
      good.subarray(0, secondRecord + 15),
      `truncated record header at byte ${secondRecord}`,
      secondRecord,
    ],
    [
      "a truncated record",
      good.subarray(0, good.byteLength - 1),
      `truncated record at byte ${secondRecord}`,
      secondRecord,
    ],
    [
      "a record longer than any snap length",
      edited((file) => writePcapRecordHeader(file, secondRecord, 2, 0, 262_145, 262_145)),
      `record at byte ${secondRecord} claims 262145 bytes`,
      secondRecord,
    ],
  ])("refuses %s with a clear error", (_name, file, message, offset) => {
    let thrown: unknown;
    try {
      readPcap(file);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PcapFormatError);
    expect((thrown as PcapFormatError).message).toContain(message);
    expect((thrown as PcapFormatError).offset).toBe(offset);
    expect(summarizePcap(file)).toEqual({ ok: false, message: (thrown as PcapFormatError).message });
  });

  it("names the header it refuses without reading records", () => {
    expect(() => readPcapGlobalHeader(good.subarray(0, 10))).toThrow(/shorter than its 24-byte header/);
    expect(readPcapGlobalHeader(good.subarray(0, 24)).linkType).toBe(LINKTYPE.ETHERNET);
  });
});
