import { describe, expect, it } from "vitest";
import { assemblePcap, combineFilters } from "./snapshot.ts";

describe("combineFilters", () => {
  it.each([
    ["", "", ""],
    ["not port 22", "", "not port 22"],
    ["", "udp port 53", "udp port 53"],
    ["not port 22", "udp port 53", "(not port 22) and (udp port 53)"],
    // Parentheses keep an "or" in either part from escaping the other.
    ["tcp or udp", "host 10.0.0.1 or host 10.0.0.2", "(tcp or udp) and (host 10.0.0.1 or host 10.0.0.2)"],
    ["  ", " icmp ", "icmp"],
  ])("(%j, %j) → %j", (base, action, expected) => {
    expect(combineFilters(base, action)).toBe(expected);
  });
});

describe("assemblePcap", () => {
  const record = (atUs: number, marker: number): { atUs: number; bytes: Buffer } => {
    const bytes = Buffer.alloc(16 + 4);
    bytes.writeUInt32LE(Math.floor(atUs / 1e6), 0);
    bytes.writeUInt32LE(atUs % 1e6, 4);
    bytes.writeUInt32LE(4, 8);
    bytes.writeUInt32LE(4, 12);
    bytes.writeUInt32LE(marker, 16);
    return { atUs, bytes };
  };

  it("writes a classic pcap header and the records in time order, whatever order interfaces delivered them in", () => {
    const file = assemblePcap([record(3_000_002, 3), record(1_000_000, 1), record(2_500_000, 2)], 1, 65535);
    expect(file.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(file.readUInt16LE(4)).toBe(2);
    expect(file.readUInt16LE(6)).toBe(4);
    expect(file.readUInt32LE(16)).toBe(65535);
    expect(file.readUInt32LE(20)).toBe(1);
    expect([0, 1, 2].map((i) => file.readUInt32LE(24 + i * 20 + 16))).toEqual([1, 2, 3]);
    expect(file.byteLength).toBe(24 + 3 * 20);
  });

  it("is a valid empty capture when nothing matched", () => {
    expect(assemblePcap([], 1, 65535).byteLength).toBe(24);
  });
});
