// Capture through libpcap, via the native binding of the `pcap` npm package
// (node_pcap), driven from a capture thread of its own (capture-worker.ts).
// This is the main thread's side: it starts the thread, opens and closes
// captures through it, and receives sealed pcap chunks.
//
// The package is an optional dependency: it compiles against libpcap's
// headers at install time, and `npm install` must still succeed on a machine
// without them. So a missing binding becomes one line saying what to
// install rather than a stack trace.

import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import {
  BINDING_MODULE,
  type CaptureStats,
  type FromCaptureThread,
  type OpenCaptureRequest,
  type ToCaptureThread,
} from "./capture-messages.ts";
import type { SealedChunk } from "./pcap-chunk.ts";

export type { CaptureStats, OpenCaptureRequest };

/** The capture thread's code, inlined by the bundler (build.ts); unbundled, the thread runs capture-worker.ts. */
declare const TAPFLEET_CAPTURE_WORKER_SOURCE: string | undefined;

export interface CaptureSession {
  /** The capture thread's id for the session: one device may have several (a snapshot beside the capture). */
  readonly id: number;
  readonly device: string;
  readonly linkType: number;
  /** libpcap's counters as of the last flush (or the close). */
  stats(): CaptureStats;
}

export interface CaptureEvents {
  /** A sealed chunk of one capture: every packet it captured goes through here, in order. */
  onChunk: (chunk: SealedChunk & { linkType: number }) => void;
  /** A capture stopped by itself (its interface went down or away); the thread has closed it. */
  onStopped: (device: string, error: Error, stats: CaptureStats) => void;
  /** libpcap's non-fatal warnings (an interface without an IPv4 address, for example). */
  onWarning: (device: string, message: string) => void;
  /** The capture thread died: nothing is captured any more. */
  onFailed: (error: Error) => void;
}

/** Where one session's chunks and end go instead of the global events (a snapshot's session). */
export interface SessionHandlers {
  onChunk: (chunk: SealedChunk & { linkType: number }) => void;
  onStopped: (error: Error) => void;
}

export interface Capture {
  readonly libraryVersion: string;
  /**
   * Opens a capture; rejects with libpcap's message when it refuses (no such
   * device, a bad filter). Its chunks go to the global events unless `handlers` are given.
   */
  open(request: OpenCaptureRequest, handlers?: SessionHandlers): Promise<CaptureSession>;
  /** Seals the session's chunk (delivered before this resolves) and closes its capture. */
  close(session: CaptureSession): Promise<void>;
  /** Seals every chunk that holds a packet (delivered before this resolves) and refreshes the stats. */
  flush(): Promise<void>;
  /** Ends the capture thread. */
  terminate(): Promise<void>;
}

export type LoadCaptureResult = { ok: true; capture: Capture } | { ok: false; reason: string };

const whyNot = (detail: string): string =>
  `cannot capture: the libpcap binding (optional npm package "pcap") is not available (${detail}); install libpcap (Debian: apt-get install libpcap-dev) and run "npm rebuild pcap", or use the tapfleet-agent container image`;

/** Starts the capture thread; on failure says why capture is impossible and what to install. */
export async function loadCapture(
  events: CaptureEvents,
  requireFrom: string = import.meta.url,
): Promise<LoadCaptureResult> {
  try {
    // Found, not loaded: the binding may be loaded on one thread only, the capture thread.
    createRequire(requireFrom).resolve(BINDING_MODULE);
  } catch (cause) {
    return { ok: false, reason: whyNot(firstLine(cause)) };
  }
  const worker =
    typeof TAPFLEET_CAPTURE_WORKER_SOURCE === "string"
      ? new Worker(TAPFLEET_CAPTURE_WORKER_SOURCE, {
          eval: true,
          workerData: { requireFrom },
          resourceLimits: CAPTURE_THREAD_LIMITS,
        })
      : new Worker(new URL("./capture-worker.ts", import.meta.url), {
          workerData: { requireFrom },
          resourceLimits: CAPTURE_THREAD_LIMITS,
        });

  let nextId = 0;
  const pending = new Map<number, (message: FromCaptureThread) => void>();
  const sessions = new Map<
    number,
    { session: CaptureSession; stats: CaptureStats; handlers: SessionHandlers | undefined }
  >();
  let failed: Error | undefined;
  let libraryVersion = "";
  const request = (message: ToCaptureThread & { id: number }): Promise<FromCaptureThread> => {
    if (failed !== undefined) return Promise.reject(failed);
    return new Promise((resolve) => {
      pending.set(message.id, resolve);
      worker.postMessage(message);
    });
  };

  const started = new Promise<LoadCaptureResult>((resolve) => {
    const fail = (error: Error): void => {
      const first = failed === undefined;
      failed = error;
      resolve({ ok: false, reason: whyNot(error.message) });
      for (const answer of pending.values())
        answer({ type: "open-failed", id: -1, message: `capture thread: ${error.message}` });
      pending.clear();
      if (first && ready) events.onFailed(error);
    };
    let ready = false;
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the capture thread exited (code ${code})`)));
    worker.on("message", (message: FromCaptureThread) => {
      switch (message.type) {
        case "ready":
          ready = true;
          libraryVersion = message.libraryVersion;
          resolve({ ok: true, capture });
          return;
        case "load-failed":
          resolve({ ok: false, reason: whyNot(message.detail) });
          return;
        case "chunk": {
          const buffer = message.buffer;
          let released = false;
          const onChunk = sessions.get(message.session)?.handlers?.onChunk ?? events.onChunk;
          onChunk({
            interfaceName: message.device,
            linkType: message.linkType,
            pcap: Buffer.from(buffer, 0, message.byteLength),
            packetCount: message.packetCount,
            firstPacketAtUs: message.firstPacketAtUs,
            lastPacketAtUs: message.lastPacketAtUs,
            release: () => {
              if (released || failed !== undefined) return;
              released = true;
              // Back to the capture thread, which keeps a few for reuse (see pcap-chunk.ts).
              worker.postMessage({ type: "recycle", session: message.session, buffer }, [buffer]);
            },
          });
          return;
        }
        case "stopped": {
          const entry = sessions.get(message.session);
          if (entry !== undefined) entry.stats = message.stats;
          sessions.delete(message.session);
          if (entry?.handlers !== undefined) entry.handlers.onStopped(new Error(message.message));
          else events.onStopped(message.device, new Error(message.message), message.stats);
          return;
        }
        case "warning":
          events.onWarning(message.device, message.message);
          return;
        case "flushed":
          for (const [session, stats] of Object.entries(message.stats)) {
            const entry = sessions.get(Number(session));
            if (entry !== undefined) entry.stats = stats;
          }
          break;
        case "closed":
        case "opened":
        case "open-failed":
          break;
      }
      const answer = pending.get(message.id);
      pending.delete(message.id);
      answer?.(message);
    });
  });

  const capture: Capture = {
    get libraryVersion() {
      return libraryVersion;
    },
    async open(options, handlers) {
      const answer = await request({ type: "open", id: nextId++, ...options });
      if (answer.type !== "opened")
        throw new Error(answer.type === "open-failed" ? answer.message : "unexpected answer");
      const entry = {
        stats: { received: 0, dropped: 0, interfaceDropped: 0 },
        handlers,
        session: {
          id: answer.session,
          device: options.device,
          linkType: answer.linkType,
          stats: () => entry.stats,
        },
      };
      if (options.probe !== true) sessions.set(answer.session, entry);
      return entry.session;
    },
    async close(session) {
      const answer = await request({ type: "close", id: nextId++, session: session.id }).catch(
        () => undefined,
      );
      // Removed only now: the session's last chunk arrives before the answer and still goes to its handlers.
      const entry = sessions.get(session.id);
      sessions.delete(session.id);
      if (entry !== undefined && answer?.type === "closed" && answer.stats !== undefined)
        entry.stats = answer.stats;
    },
    async flush() {
      await request({ type: "flush", id: nextId++ }).catch(() => undefined);
    },
    async terminate() {
      failed ??= new Error("capture stopped");
      await worker.terminate();
    },
  };
  const result = await started;
  if (!result.ok) await worker.terminate();
  return result;
}

// The capture thread allocates almost nothing per packet: a small heap is
// plenty, and keeps its share of the agent's memory small.
const CAPTURE_THREAD_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 };

function firstLine(cause: unknown): string {
  return cause instanceof Error ? (cause.message.split("\n")[0] ?? "") : String(cause);
}
