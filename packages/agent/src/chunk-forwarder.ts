// Forwards packet chunks to the collector under a bandwidth cap, with a
// bounded queue. Chunks are never retried and never pile up: when the
// collector is slower than the traffic, the queue fills and new chunks are
// dropped and counted (`queue_full`), so memory stays flat; chunks over the
// cap are dropped before they are queued (`bandwidth_cap`).

import type { ChunkDropReason, UploadStats } from "@tapfleet/sensor/protocol";
import type { SealedChunk } from "./pcap-chunk.ts";

/** A token bucket in bytes: refills at `rate` per second up to `capacity`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  /** Takes `amount` tokens if they are there. */
  take(amount: number): boolean {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (amount > this.tokens) return false;
    this.tokens -= amount;
    return true;
  }
}

export type ChunkSendOutcome =
  | { ok: true }
  | { ok: false; reason: Extract<ChunkDropReason, "server_rejected" | "network_error" | "too_large"> };

export interface ChunkForwarderOptions {
  /** Bytes per second; 0 means no cap. */
  bytesPerSecond: number;
  chunkMaxBytes: number;
  maxQueuedChunks: number;
  /** Uploads in flight at once. */
  concurrency: number;
  send: (chunk: SealedChunk) => Promise<ChunkSendOutcome>;
  now: () => number;
  onDropped?: (chunk: SealedChunk, reason: ChunkDropReason) => void;
  onSent?: (chunk: SealedChunk) => void;
}

export class ChunkForwarder {
  private readonly queue: SealedChunk[] = [];
  private readonly bucket: TokenBucket | undefined;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  readonly stats: UploadStats = { chunksSent: 0, bytesSent: 0, chunksDropped: {} };

  constructor(private readonly options: ChunkForwarderOptions) {
    // A bucket at least one chunk deep, so that a cap below the chunk size still lets chunks through, less often.
    this.bucket =
      options.bytesPerSecond > 0
        ? new TokenBucket(
            options.bytesPerSecond,
            Math.max(options.bytesPerSecond, options.chunkMaxBytes),
            options.now,
          )
        : undefined;
  }

  private drop(chunk: SealedChunk, reason: ChunkDropReason): void {
    this.stats.chunksDropped[reason] = (this.stats.chunksDropped[reason] ?? 0) + 1;
    this.options.onDropped?.(chunk, reason);
  }

  submit(chunk: SealedChunk): void {
    if (this.queue.length >= this.options.maxQueuedChunks) return this.drop(chunk, "queue_full");
    if (this.bucket !== undefined && !this.bucket.take(chunk.pcap.byteLength))
      return this.drop(chunk, "bandwidth_cap");
    this.queue.push(chunk);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const chunk = this.queue.shift()!;
      this.inFlight++;
      void this.options
        .send(chunk)
        .catch((): ChunkSendOutcome => ({ ok: false, reason: "network_error" }))
        .then((outcome) => {
          if (outcome.ok) {
            this.stats.chunksSent++;
            this.stats.bytesSent += chunk.pcap.byteLength;
            this.options.onSent?.(chunk);
          } else this.drop(chunk, outcome.reason);
        })
        .finally(() => {
          this.inFlight--;
          this.pump();
          if (this.inFlight === 0 && this.queue.length === 0)
            for (const resolve of this.idleWaiters.splice(0)) resolve();
        });
    }
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
