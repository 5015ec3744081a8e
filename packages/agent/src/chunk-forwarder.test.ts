import { describe, expect, it } from "vitest";
import { ChunkForwarder, TokenBucket, type ChunkSendOutcome } from "./chunk-forwarder.ts";
import type { SealedChunk } from "./pcap-chunk.ts";

const chunk = (bytes: number): SealedChunk => ({
  interfaceName: "t0",
  pcap: Buffer.alloc(bytes),
  packetCount: 1,
  firstPacketAtUs: 0,
  lastPacketAtUs: 0,
  release: () => undefined,
});

describe("TokenBucket", () => {
  it("refills at its rate up to its capacity", () => {
    let now = 0;
    const bucket = new TokenBucket(1000, 2000, () => now);
    expect(bucket.take(1500)).toBe(true);
    expect(bucket.take(1000)).toBe(false);
    now = 500;
    expect(bucket.take(1000)).toBe(true);
    now = 60_000;
    expect(bucket.take(2001)).toBe(false);
    expect(bucket.take(2000)).toBe(true);
  });
});

describe("ChunkForwarder", () => {
  it("drops and counts chunks over the bandwidth cap and beyond the queue, without waiting", async () => {
    const release: Array<(outcome: ChunkSendOutcome) => void> = [];
    const forwarder = new ChunkForwarder({
      bytesPerSecond: 10_000,
      chunkMaxBytes: 4000,
      maxQueuedChunks: 2,
      concurrency: 1,
      now: () => 0,
      send: () => new Promise((resolve) => release.push(resolve)),
    });
    // Bucket of 10,000 bytes: two chunks of 4,000 pass, the third does not.
    for (let index = 0; index < 3; index++) forwarder.submit(chunk(4000));
    expect(forwarder.stats.chunksDropped).toEqual({ bandwidth_cap: 1 });
    for (let index = 0; index < 3; index++) forwarder.submit(chunk(10));
    // One 4,000-byte chunk in flight, the other and one small one queued: the rest are queue_full.
    expect(forwarder.stats.chunksDropped).toEqual({ bandwidth_cap: 1, queue_full: 2 });
    while (release.length > 0) {
      release.shift()!({ ok: true });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await forwarder.idle();
    expect(forwarder.stats.chunksSent).toBe(3);
    expect(forwarder.stats.bytesSent).toBe(8010);
  });

  it("counts a network failure and a server refusal by reason", async () => {
    let call = 0;
    const forwarder = new ChunkForwarder({
      bytesPerSecond: 0,
      chunkMaxBytes: 1024,
      maxQueuedChunks: 8,
      concurrency: 1,
      now: () => 0,
      send: () => {
        call++;
        if (call === 1) return Promise.reject(new Error("ECONNREFUSED"));
        return Promise.resolve({ ok: false, reason: "server_rejected" });
      },
    });
    forwarder.submit(chunk(10));
    forwarder.submit(chunk(10));
    await forwarder.idle();
    expect(forwarder.stats.chunksDropped).toEqual({ network_error: 1, server_rejected: 1 });
  });
});
