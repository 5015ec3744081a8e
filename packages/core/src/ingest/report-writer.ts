// Group commit for stats reports. Requests that arrive while a batch is being
// written wait for the next one; each batch is one transaction of a few
// multi-row statements, and every request is answered only after the batch
// holding its report has committed. This turns ~6 round trips per report into
// ~6 per batch, which is what lets one small server take thousands of
// reports a second without giving up "acknowledged means stored".
//
// The batching is group-commit.ts, the SQL report-statements.ts, and the
// decisions on replays and resends report-dedupe.ts.
import type { LiveBus, PgPool } from "@tapfleet/db";
import { publishTopicMany } from "../live/topics.ts";
import { createGroupCommitQueue } from "./group-commit.ts";
import type { WriteOutcome } from "./report-dedupe.ts";
import { writeReportBatch, type ReportWrite } from "./report-statements.ts";
import { STATS_TOPIC } from "./summary.ts";

export type { WriteOutcome } from "./report-dedupe.ts";
export type { ReportWrite } from "./report-statements.ts";
export { STATS_TOPIC } from "./summary.ts";

export interface ReportWriter {
  write(item: ReportWrite): Promise<WriteOutcome>;
  /** Waits for queued reports to be written and their summaries published. */
  drain(): Promise<void>;
}

export function createReportWriter(options: {
  pool: PgPool;
  bus: LiveBus;
  maxBatch?: number;
  maxConcurrentBatches?: number;
  onError?: (error: unknown, context: string) => void;
}): ReportWriter {
  let publishing: Promise<void> = Promise.resolve();
  const queue = createGroupCommitQueue<ReportWrite, WriteOutcome>({
    maxBatch: options.maxBatch ?? 500,
    // Two batches in flight overlap our work with the database's; more only
    // adds lock contention on a small server.
    maxConcurrentBatches: options.maxConcurrentBatches ?? 2,
    // One report the database refuses must not fail the others of its
    // batch: nothing of the batch was written, so each is written on its own.
    onBatchRefused: (error, size) =>
      options.onError?.(error, `writing a batch of ${size} reports; retrying one by one`),
    async flush(batch) {
      const written = await writeReportBatch({ pool: options.pool, batch });
      if (written.summaries.length > 0) {
        // Published in commit order, but off the batch's path: the next batch
        // need not wait for the notification's round trip.
        const summaries = written.summaries;
        publishing = publishing.then(() =>
          publishTopicMany(options.bus, STATS_TOPIC, summaries).catch((error: unknown) =>
            options.onError?.(error, "publishing reports"),
          ),
        );
      }
      return written.outcomes;
    },
  });

  return {
    write: (item) => queue.enqueue(item),
    async drain() {
      await queue.drain();
      await publishing;
    },
  };
}
