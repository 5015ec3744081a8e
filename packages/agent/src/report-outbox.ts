// Stats reports survive a collector outage: they wait here, bounded, and go
// out in order once the collector answers again. When the outbox is full the
// oldest report is dropped and counted: counters are cumulative, so a newer
// report carries everything an older one did except its top talkers.

import { fullJitterDelay } from "./backoff.ts";

export type SendOutcome = "sent" | "retry" | "rejected";

export interface ReportOutboxOptions {
  maxReports: number;
  /** Sends one report; "retry" keeps it at the head and backs off, "rejected" drops it (the server will never take it). */
  send: (body: string, sequence: number) => Promise<SendOutcome>;
  backoffBaseMs: number;
  backoffCapMs: number;
  random?: () => number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  onDropped?: (sequence: number, reason: "outbox_full" | "rejected") => void;
  onRetry?: (sequence: number, attempt: number, delayMs: number) => void;
}

interface Pending {
  sequence: number;
  body: string;
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

export class ReportOutbox {
  private readonly queue: Pending[] = [];
  private running: Promise<void> | undefined;
  private wake = new AbortController();
  private stopped = false;
  droppedFull = 0;
  droppedRejected = 0;
  sent = 0;

  constructor(private readonly options: ReportOutboxOptions) {}

  get length(): number {
    return this.queue.length;
  }

  enqueue(sequence: number, body: string): void {
    if (this.queue.length >= this.options.maxReports) {
      const oldest = this.queue.shift();
      if (oldest !== undefined) {
        this.droppedFull++;
        this.options.onDropped?.(oldest.sequence, "outbox_full");
      }
    }
    this.queue.push({ sequence, body });
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    const sleep = this.options.sleep ?? abortableSleep;
    let attempt = 0;
    while (this.queue.length > 0 && !this.stopped) {
      const head = this.queue[0]!;
      const outcome = await this.options.send(head.body, head.sequence);
      if (outcome === "retry") {
        const delay = fullJitterDelay(attempt, {
          baseMs: this.options.backoffBaseMs,
          capMs: this.options.backoffCapMs,
          random: this.options.random,
        });
        this.options.onRetry?.(head.sequence, attempt, delay);
        attempt++;
        await sleep(delay, this.wake.signal);
        continue;
      }
      attempt = 0;
      // The head may have been dropped for room while it was being sent.
      if (this.queue[0] === head) this.queue.shift();
      if (outcome === "sent") this.sent++;
      else {
        this.droppedRejected++;
        this.options.onDropped?.(head.sequence, "rejected");
      }
    }
  }

  /** Sends what is queued, retrying until `deadlineMs` passes; then stops. Returns how many stayed unsent. */
  async flush(deadlineMs: number): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    try {
      // A send in flight may hang on a dead collector: the deadline wins.
      while (this.running !== undefined) {
        const finished = await Promise.race([this.running.then(() => true), deadline.then(() => false)]);
        if (!finished) break;
      }
    } finally {
      clearTimeout(timer);
      this.stopped = true;
      this.wake.abort();
    }
    return this.queue.length;
  }
}
