// Antigena: with ANTIGENA_ENABLED the agent asks the server for response
// actions every ANTIGENA_TIME_PERIOD seconds (a signed GET through the same
// collector client as reports, so proxy, NO_PROXY and TLS settings apply),
// runs each action once, and uploads its result. Failed polls back off with
// full jitter; result uploads are retried until the action's deadline.

import {
  actionPollPath,
  CONTENT_TYPES,
  decodeActionPoll,
  encodeActionResultUpload,
  INGEST_PATHS,
  PROTOCOL_VERSION,
  type ActionResultMetadata,
  type AgentIdentity,
  type AntigenaStats,
  type SensorAction,
} from "@tapfleet/sensor/protocol";
import { fullJitterDelay } from "../backoff.ts";
import { causeMessage } from "../cause-message.ts";
import type { CollectorClient } from "../collector-client.ts";
import type { Logger } from "../logger.ts";
import { runPcapSnapshot, type SnapshotEnvironment, type SnapshotResult } from "./snapshot.ts";

export interface AntigenaOptions {
  client: Pick<CollectorClient, "get" | "post">;
  nodeName: string;
  /** The agent's identity for a message with this sequence number. */
  identity: (sequence: number) => AgentIdentity;
  agentVersion: string;
  periodSeconds: number;
  log: Logger;
  snapshot: Omit<SnapshotEnvironment, "onStarted" | "now">;
  now?: () => number;
  random?: () => number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Snapshots running at once; more are failed as busy (the server allows 4 open per sensor). */
  maxConcurrent?: number;
}

/** Action ids remembered, so an action handed out again is not run twice. */
const REMEMBERED_ACTIONS = 1024;
/** Deadline for answering an action this agent cannot read (no deadline of its own). */
const UNSUPPORTED_DEADLINE_MS = 60_000;

export class AntigenaPoller {
  private readonly counters: AntigenaStats = {
    pollsOk: 0,
    pollsFailed: 0,
    actionsReceived: 0,
    actionsSucceeded: 0,
    actionsFailed: 0,
  };
  private readonly seen = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private resultSequence = 0;

  constructor(private readonly options: AntigenaOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Polls at once, then every period. */
  start(): void {
    this.options.log.log(
      0,
      `Antigena enabled: polling for response actions every ${this.options.periodSeconds} s`,
    );
    this.schedule(0);
  }

  stats(): AntigenaStats {
    return { ...this.counters };
  }

  /** One line for the level-1 stats log. */
  describeStats(): string {
    const c = this.counters;
    return `antigena: polls ${c.pollsOk} ok, ${c.pollsFailed} failed; actions ${c.actionsReceived} received, ${c.actionsSucceeded} succeeded, ${c.actionsFailed} failed, ${this.running.size} running`;
  }

  /** Stops polling, cuts running snapshots short and waits (bounded) for their results to be sent. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running.values()]),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  private pollFailed(why: string): void {
    this.counters.pollsFailed++;
    this.failures++;
    const base = this.options.backoffBaseMs ?? 1000;
    const cap = this.options.backoffCapMs ?? 30_000;
    const delay =
      this.options.periodSeconds * 1000 +
      fullJitterDelay(this.failures - 1, { baseMs: base, capMs: cap, random: this.options.random });
    this.options.log.log(2, `antigena: poll failed: ${why}; next in ${delay} ms`);
    this.schedule(delay);
  }

  private async poll(): Promise<void> {
    const { client, log } = this.options;
    let status: number;
    let text: string;
    try {
      ({ status, body: text } = await client.get(actionPollPath(this.options.nodeName)));
    } catch (error) {
      this.pollFailed(causeMessage(error));
      return;
    }
    if (this.stopped) return;
    if (status < 200 || status >= 300) {
      this.pollFailed(`HTTP ${status} ${text.slice(0, 200)}`);
      return;
    }
    const decoded = decodeActionPoll(text);
    if (!decoded.ok) {
      this.pollFailed(`unreadable answer: ${decoded.message.slice(0, 200)}`);
      return;
    }
    this.counters.pollsOk++;
    this.failures = 0;
    log.log(
      2,
      `antigena: poll answered HTTP ${status}, ${decoded.actions.length + decoded.unsupported.length} action(s)`,
    );
    const receivedAt = this.now();
    // The deadline is on the server's clock; carried over to ours by the offset.
    const localDeadline = (deadlineAt: number) => receivedAt + (deadlineAt - decoded.serverTime);
    for (const action of decoded.actions) {
      if (!this.remember(action.id)) continue;
      this.runAction(action, localDeadline(action.deadlineAt));
    }
    for (const other of decoded.unsupported) {
      if (!this.remember(other.id)) continue;
      log.log(3, `antigena: action ${other.id} of type "${other.type}" is not supported by this agent`);
      this.track(
        other.id,
        this.upload(
          other.id,
          {
            status: "failed",
            reason:
              `action type "${other.type}" (or its parameters) is not supported by tapfleet-agent ${this.options.agentVersion}: ${other.message}`.slice(
                0,
                1000,
              ),
            interfaces: [],
            finishedAt: this.now(),
          },
          receivedAt + UNSUPPORTED_DEADLINE_MS,
        ),
      );
    }
    this.schedule(this.options.periodSeconds * 1000);
  }

  /** False when the action was seen before (handed out again until its result is in). */
  private remember(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > REMEMBERED_ACTIONS) this.seen.delete(this.seen.values().next().value!);
    this.counters.actionsReceived++;
    return true;
  }

  private track(id: string, task: Promise<void>): void {
    this.running.set(
      id,
      task.finally(() => this.running.delete(id)),
    );
  }

  private runAction(action: SensorAction, deadline: number): void {
    const { log } = this.options;
    const p = action.params;
    log.log(
      3,
      `antigena: action ${action.id} received: pcap snapshot of ${p.durationSeconds} s, filter "${p.filter}", ${p.interface === undefined ? "every captured interface" : `interface ${p.interface}`}, at most ${p.maxBytes} bytes / ${p.maxPackets} packets`,
    );
    const maxConcurrent = this.options.maxConcurrent ?? 4;
    if (this.running.size >= maxConcurrent) {
      this.track(
        action.id,
        this.upload(
          action.id,
          {
            status: "failed",
            reason: `the agent is already running ${this.running.size} actions (at most ${maxConcurrent})`,
            interfaces: [],
            finishedAt: this.now(),
          },
          deadline,
        ),
      );
      return;
    }
    this.track(
      action.id,
      (async () => {
        const result = await runPcapSnapshot(
          {
            ...this.options.snapshot,
            now: this.now,
            onStarted: ({ interfaces, filter }) =>
              log.log(
                3,
                `antigena: snapshot ${action.id} started on ${interfaces.join(", ")} with filter "${filter}"`,
              ),
          },
          action.params,
          this.abort.signal,
        );
        log.log(
          3,
          result.status === "succeeded"
            ? `antigena: snapshot ${action.id} done: ${result.packetCount} packets, ${result.pcap.byteLength} bytes, ended by ${result.endedBy}${result.note === undefined ? "" : ` (${result.note})`}`
            : `antigena: snapshot ${action.id} failed: ${result.reason}`,
        );
        await this.upload(action.id, result, deadline);
      })(),
    );
  }

  private async upload(actionId: string, result: SnapshotResult, deadline: number): Promise<void> {
    const { client, log } = this.options;
    const pcap = result.status === "succeeded" ? result.pcap : new Uint8Array(0);
    const metadata: ActionResultMetadata = {
      protocolVersion: PROTOCOL_VERSION,
      agent: this.options.identity(this.resultSequence++),
      actionId,
      status: result.status,
      finishedAt: result.finishedAt,
      interfaces: result.interfaces,
      packetCount: result.status === "succeeded" ? result.packetCount : 0,
      pcapBytes: pcap.byteLength,
      ...(result.startedAt === undefined ? {} : { startedAt: result.startedAt }),
      ...(result.status === "succeeded"
        ? { endedBy: result.endedBy, ...(result.note === undefined ? {} : { reason: result.note }) }
        : { reason: result.reason }),
    };
    const body = encodeActionResultUpload(metadata, pcap);
    for (let attempt = 0; ; attempt++) {
      let status = 0;
      let text: string;
      try {
        ({ status, body: text } = await client.post(
          INGEST_PATHS.actionResults,
          body,
          CONTENT_TYPES.actionResult,
        ));
      } catch (error) {
        text = causeMessage(error);
      }
      log.log(
        2,
        `antigena: result of action ${actionId} (${body.byteLength} bytes) ${status === 0 ? "not sent" : "sent"}: ${status === 0 ? text : `HTTP ${status} ${text.slice(0, 200)}`}`,
      );
      if (status >= 200 && status < 300) {
        if (result.status === "succeeded") this.counters.actionsSucceeded++;
        else this.counters.actionsFailed++;
        return;
      }
      // Worth another try: network, overload, auth during a key rotation, server errors.
      const retry = status === 0 || status === 401 || status === 408 || status === 429 || status >= 500;
      const delay = fullJitterDelay(attempt, {
        baseMs: this.options.backoffBaseMs ?? 1000,
        capMs: this.options.backoffCapMs ?? 30_000,
        random: this.options.random,
      });
      if (!retry || this.stopped || this.now() + delay >= deadline) {
        this.counters.actionsFailed++;
        log.log(
          0,
          `antigena: the result of action ${actionId} was not delivered: ${status === 0 ? text : `HTTP ${status} ${text.slice(0, 300)}`}${retry ? " (deadline reached or agent stopping)" : ""}`,
        );
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
