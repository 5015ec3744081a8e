// The agent's knobs that are not settings: intervals, queue bounds, backoff
// and libpcap's buffers. Tests shorten them; the defaults are for production.

export interface AgentTuning {
  /** How often the interface list is read again (new and vanished interfaces). */
  interfacePollMs: number;
  /** A chunk is sealed at least this often, so quiet interfaces still upload. */
  chunkFlushMs: number;
  maxQueuedChunks: number;
  maxQueuedReports: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** On SIGTERM: how long to keep trying to deliver queued reports. */
  shutdownFlushMs: number;
  snapLength: number;
  captureBufferBytes: number;
  captureTimeoutMs: number;
}

export const DEFAULT_TUNING: AgentTuning = {
  interfacePollMs: 1000,
  chunkFlushMs: 1000,
  maxQueuedChunks: 4,
  // An hour of reports at the default 10 s interval.
  maxQueuedReports: 360,
  backoffBaseMs: 1000,
  backoffCapMs: 30_000,
  shutdownFlushMs: 5000,
  snapLength: 65535,
  // Per interface and resident. 4 MiB lost packets above 150k pps on a busy
  // machine where tcpdump did not; 8 MiB kept up to 300k (docs/benchmarks.md).
  captureBufferBytes: 8 * 1024 * 1024,
  captureTimeoutMs: 100,
};
