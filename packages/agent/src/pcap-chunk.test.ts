import { decodeChunkUpload, encodeChunkUpload, readPcap, summarizePcap } from "@tapfleet/sensor";
import { describe, expect, it } from "vitest";
import { PcapChunkBuilder, type PcapChunk } from "./pcap-chunk.ts";

const identity = {
  clusterId: "lab",
  nodeName: "n",
  podName: "p",
  agentVersion: "0.1.0",
  configHash: "a".repeat(64),
  startedAt: 1,
  sequence: 0,
};

describe("PcapChunkBuilder", () => {
  it("writes classic pcap the protocol's decoder accepts, sealing before a record would overflow", () => {
    const sealed: PcapChunk[] = [];
    const builder = new PcapChunkBuilder("t0", 1, 1024, 65535, (chunk) => sealed.push(chunk));
    const packet = new Uint8Array(200).fill(7);
    for (let index = 0; index < 10; index++) builder.add(1_700_000_000 + index, index * 10, packet, 200, 200);
    builder.flush();
    // 24 + 4 × 216 = 888 fits in 1024, a fifth record would not.
    expect(sealed.map((chunk) => chunk.packetCount)).toEqual([4, 4, 2]);
    for (const chunk of sealed) {
      const body = encodeChunkUpload(
        {
          protocolVersion: 1,
          agent: identity,
          interface: "t0",
          firstPacketAtUs: chunk.firstPacketAtUs,
          lastPacketAtUs: chunk.lastPacketAtUs,
          packetCount: chunk.packetCount,
          pcapBytes: chunk.pcap.byteLength,
        },
        chunk.pcap,
      );
      expect(decodeChunkUpload(body).ok).toBe(true);
    }
    expect(sealed[0]!.firstPacketAtUs).toBe(1_700_000_000 * 1_000_000);
    expect(sealed[2]!.lastPacketAtUs).toBe(1_700_000_009 * 1_000_000 + 90);
  });

  it("cuts a packet larger than a chunk, keeping its original length", () => {
    const sealed: PcapChunk[] = [];
    const builder = new PcapChunkBuilder("t0", 1, 1024, 65535, (chunk) => sealed.push(chunk));
    builder.add(1, 0, new Uint8Array(9000), 9000, 9000);
    builder.flush();
    const summary = summarizePcap(sealed[0]!.pcap);
    expect(summary.ok && summary.summary.packetCount).toBe(1);
    expect(sealed[0]!.pcap.byteLength).toBe(1024);
    expect(readPcap(sealed[0]!.pcap).records[0]!.wireLength).toBe(9000);
  });

  it("seals nothing when empty", () => {
    const sealed: PcapChunk[] = [];
    new PcapChunkBuilder("t0", 1, 1024, 65535, (chunk) => sealed.push(chunk)).flush();
    expect(sealed).toEqual([]);
  });

  it("keeps a busy interface on full-size buffers and reuses the ones handed back", () => {
    const sealed: PcapChunk[] = [];
    const builder = new PcapChunkBuilder("t0", 1, 1024, 65535, (chunk) => sealed.push(chunk));
    const packet = new Uint8Array(200);
    for (let index = 0; index < 5; index++) builder.add(1, index, packet, 200, 200);
    // The fifth packet sealed a full chunk: the next one starts in a full-size buffer.
    expect(sealed).toHaveLength(1);
    const first = Buffer.from(sealed[0]!.pcap.buffer, 0, 1024);
    builder.recycle(first);
    for (let index = 0; index < 3; index++) builder.add(2, index, packet, 200, 200);
    builder.flush(); // More than half full: still busy, so the recycled buffer is taken next.
    builder.add(3, 0, packet, 200, 200);
    builder.flush();
    expect(sealed).toHaveLength(3);
    expect(sealed[2]!.pcap.buffer).toBe(first.buffer);
    expect(summarizePcap(sealed[2]!.pcap)).toMatchObject({ ok: true, summary: { packetCount: 1 } });
  });
});
