// The agent's status file (see @tapfleet/sensor/health): which interfaces it
// captures and what the collector made of its last report, kept in memory and
// written atomically (temp file + rename) whenever it changes, so that
// `tapfleet-agent probe` — the DaemonSet's readiness probe, a separate process
// — never reads half a file. It sits beside the generated config file, on the
// DaemonSet's writable emptyDir.

import { mkdir, rename, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { AgentStatus } from "@tapfleet/sensor/health";
import { causeMessage } from "./cause-message.ts";

export interface AgentStatusFileOptions {
  path: string;
  startedAt: number;
  reportIntervalSeconds: number;
  now: () => number;
  /** Told once per run of failures to write, with the reason. */
  onWriteError: (message: string) => void;
}

/** What the collector made of one report. */
export type ReportDelivery =
  | { outcome: "accepted" }
  | { outcome: "refused"; status: number; message: string }
  | { outcome: "failed"; message: string };

export class AgentStatusFile {
  private status: AgentStatus;
  private written = "";
  private writing: Promise<void> = Promise.resolve();
  private failing = false;
  private closed = false;

  constructor(private readonly options: AgentStatusFileOptions) {
    this.status = {
      version: 1,
      startedAt: options.startedAt,
      reportIntervalSeconds: options.reportIntervalSeconds,
      openInterfaces: [],
      closedInterfaces: [],
    };
  }

  /** Removes a file an earlier run of the container left on the emptyDir, which would speak for this one. */
  static async removeStale(filePath: string): Promise<void> {
    await unlink(filePath).catch(() => undefined);
  }

  current(): AgentStatus {
    return this.status;
  }

  interfaces(open: string[], closed: AgentStatus["closedInterfaces"]): void {
    this.update({ openInterfaces: [...open].sort(), closedInterfaces: closed });
  }

  reportDelivered(delivery: ReportDelivery): void {
    const at = this.options.now();
    if (delivery.outcome === "accepted") this.update({ lastReportAcceptedAt: at });
    else if (delivery.outcome === "refused")
      this.update({ lastReportRefused: { at, status: delivery.status, message: delivery.message } });
    else this.update({ lastSendError: { at, message: delivery.message } });
  }

  /** Resolves once every change so far is on disk (or failed to be). */
  flush(): Promise<void> {
    return this.writing;
  }

  /** At exit: the file goes, so that nothing reads a stopped agent as ready. */
  async remove(): Promise<void> {
    this.closed = true;
    await this.writing;
    await AgentStatusFile.removeStale(this.options.path);
  }

  private update(change: Partial<AgentStatus>): void {
    if (this.closed) return;
    this.status = { ...this.status, ...change };
    const text = `${JSON.stringify(this.status)}\n`;
    if (text === this.written) return;
    this.written = text;
    this.writing = this.writing.then(() => this.write(text));
  }

  private async write(text: string): Promise<void> {
    if (this.closed || text !== this.written) return; // a newer state follows, or the agent stopped
    const filePath = this.options.path;
    const temporary = `${filePath}.${process.pid}.tmp`;
    try {
      await mkdir(path.dirname(filePath), { recursive: true });
      await writeFile(temporary, text, { mode: 0o644 });
      await rename(temporary, filePath);
      this.failing = false;
    } catch (error) {
      if (!this.failing)
        this.options.onWriteError(`cannot write the status file ${filePath}: ${causeMessage(error)}`);
      this.failing = true;
    }
  }
}
