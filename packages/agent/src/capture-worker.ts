// The capture thread: the only place that touches libpcap. It runs in a
// worker thread of its own so that nothing the main thread does (TLS
// uploads, signing, JSON, garbage collection of a busy heap) can hold up
// the reading of the kernel's ring: a stall longer than the ring (8 MiB is
// about 0.3 s of small packets at 200k packets/s) loses packets. Per packet
// it does one thing, append the record to the interface's pcap chunk, and
// allocates nothing; decoding and counting happen on the main thread, a
// chunk at a time.
//
// node_pcap's binding (optional npm package "pcap") is not context-aware, so
// a process may load it on one thread only: this one, and only once. Its own
// poll watcher (start_polling) is not used: the binding never closes that
// libuv handle, and a worker thread whose loop still holds a handle aborts
// the whole process when it ends. Instead this thread reads every capture
// (non-blocking) on a short timer, and again at once while packets keep
// coming: an idle capture costs a few dozen cheap calls a second, a busy
// one is read as fast as libpcap hands over blocks.

import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import {
  BINDING_MODULE,
  type CaptureStats,
  type FromCaptureThread,
  type OpenCaptureRequest,
  type ToCaptureThread,
} from "./capture-messages.ts";
import {
  readOfflinePackets,
  ReplayPacer,
  type OfflineSession,
  type OpenCapture,
} from "./capture-replay-thread.ts";
import { linkTypeNumber } from "./decode.ts";
import { PcapChunkBuilder, type PcapChunk } from "./pcap-chunk.ts";

interface NativeSession extends OfflineSession {
  open_live: OpenCapture;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
}

interface NativeBinding {
  PcapSession: new () => NativeSession;
  lib_version(): string;
}

interface Live {
  id: number;
  device: string;
  eager: boolean;
  native: NativeSession;
  builder: PcapChunkBuilder;
  data: Buffer;
  header: Buffer;
  open: boolean;
  lastStats: CaptureStats;
}

/**
 * How long the thread sleeps when no capture had a packet. The kernel hands
 * packets over in blocks (at the latest every captureTimeoutMs), and the
 * ring holds far more than 20 ms of traffic; shorter sleeps cost an idle
 * agent CPU for nothing (5 ms cost about 4 % of a core).
 */
const IDLE_POLL_MS = 20;

const port = parentPort!;
/** Packets delivered by the current round of reads. */
let delivered = 0;
const post = (message: FromCaptureThread, transfer?: ArrayBuffer[]): void =>
  port.postMessage(message, transfer);

function readStats(live: Live): CaptureStats {
  if (!live.open) return live.lastStats;
  try {
    const raw = live.native.stats();
    live.lastStats = {
      received: raw.ps_recv >>> 0,
      dropped: raw.ps_drop >>> 0,
      interfaceDropped: raw.ps_ifdrop >>> 0,
    };
  } catch {
    // The handle may already be unusable; keep the last numbers.
  }
  return live.lastStats;
}

/** Sessions that replay a file instead of capturing (capture-replay-thread.ts). */
interface Replay {
  id: number;
  device: string;
  builder: PcapChunkBuilder;
  pacer: ReplayPacer;
}

/** Closed sessions whose libpcap handle is not released yet. */
const closing = new Set<Live>();

/**
 * Ends a session. The binding's close() only breaks libpcap's loop; a later
 * dispatch that sees the break (one with a packet to read, at the latest)
 * then closes the handle (the binding's FinalizeClose), which also unmaps
 * the kernel ring. Until then the pump retries.
 */
function finish(live: Live): void {
  readStats(live);
  live.open = false;
  live.native.close();
  closing.add(live);
  finalize(live);
}

function finalize(live: Live): void {
  let result: number;
  try {
    result = live.native.dispatch(live.data, live.header);
  } catch {
    result = -1;
  }
  // -2: closed; -1: the handle failed, and dispatching it again would only fail again.
  if (result < 0) closing.delete(live);
}

function main(): void {
  let binding: NativeBinding;
  try {
    binding = createRequire((workerData as { requireFrom: string }).requireFrom)(
      BINDING_MODULE,
    ) as NativeBinding;
  } catch (cause) {
    post({
      type: "load-failed",
      detail: cause instanceof Error ? (cause.message.split("\n")[0] ?? "") : String(cause),
    });
    return;
  }

  const sessions = new Map<number, Live>();
  const replays = new Map<number, Replay>();
  let nextSession = 1;

  const sendChunk = (session: number, linkType: number) => (chunk: PcapChunk) => {
    const buffer = chunk.pcap.buffer as ArrayBuffer;
    post(
      {
        type: "chunk",
        session,
        device: chunk.interfaceName,
        linkType,
        buffer,
        byteLength: chunk.pcap.byteLength,
        packetCount: chunk.packetCount,
        firstPacketAtUs: chunk.firstPacketAtUs,
        lastPacketAtUs: chunk.lastPacketAtUs,
      },
      [buffer],
    );
  };

  const openReplay = (request: OpenCaptureRequest, file: string): { session: number; linkType: number } => {
    const id = nextSession++;
    const { linkName, packets } = readOfflinePackets({
      session: new binding.PcapSession(),
      file,
      filter: request.filter,
      snapLength: request.snapLength,
      warning: (message) => post({ type: "warning", device: request.device, message }),
    });
    const linkType = linkTypeNumber(linkName);
    const builder = new PcapChunkBuilder(
      request.device,
      linkType,
      request.chunkMaxBytes,
      request.snapLength,
      sendChunk(id, linkType),
    );
    const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
    if (request.probe !== true)
      replays.set(id, {
        id,
        device: request.device,
        builder,
        pacer: new ReplayPacer(packets, builder, nowUs),
      });
    return { session: id, linkType };
  };

  const open = (request: OpenCaptureRequest): { session: number; linkType: number } => {
    if (request.replayFile !== undefined) return openReplay(request, request.replayFile);
    const id = nextSession++;
    const native = new binding.PcapSession();
    const data = Buffer.alloc(request.snapLength);
    const header = Buffer.alloc(16);
    // tv_sec, tv_usec, caplen, len in host order, which is little-endian on every platform we build for.
    const fields = new Uint32Array(header.buffer, header.byteOffset, 4);
    // Filled right after open_live: packets are dispatched from the pump, never during open.
    const opened: { live?: Live } = {};
    const linkName = native.open_live(
      request.device,
      request.filter,
      request.bufferBytes,
      request.snapLength,
      "",
      () => {
        const live = opened.live;
        if (live === undefined || !live.open) return;
        delivered++;
        const captured = fields[2]!;
        live.builder.add(
          fields[0]!,
          fields[1]!,
          data,
          captured < data.length ? captured : data.length,
          fields[3]!,
        );
      },
      false,
      request.timeoutMs,
      (message) => post({ type: "warning", device: request.device, message }),
      true,
    );
    const linkType = linkTypeNumber(linkName);
    const builder = new PcapChunkBuilder(
      request.device,
      linkType,
      request.chunkMaxBytes,
      request.snapLength,
      sendChunk(id, linkType),
    );
    const live: Live = {
      id,
      device: request.device,
      eager: request.eager === true,
      native,
      builder,
      data,
      header,
      open: true,
      lastStats: { received: 0, dropped: 0, interfaceDropped: 0 },
    };
    opened.live = live;
    if (request.probe === true) {
      finish(live);
      return { session: id, linkType };
    }
    sessions.set(id, live);
    return { session: id, linkType };
  };

  /** Reads everything libpcap has for the capture; a failed handle is closed and reported. */
  const read = (live: Live): void => {
    if (!live.open) return;
    // dispatch loops until the socket is drained; -1 means libpcap gave up on
    // the handle (interface down or gone).
    if (live.native.dispatch(live.data, live.header) !== -1 || !live.open) {
      if (live.eager) live.builder.flush();
      return;
    }
    finish(live);
    live.builder.flush();
    sessions.delete(live.id);
    post({
      type: "stopped",
      session: live.id,
      device: live.device,
      message: `capture on ${live.device} stopped (interface down or gone)`,
      stats: live.lastStats,
    });
  };

  const pump = (): void => {
    delivered = 0;
    for (const live of sessions.values()) read(live);
    // A replay hands over what is due; it never keeps the pump busy.
    for (const replay of replays.values()) replay.pacer.pump();
    for (const live of closing) finalize(live);
    if (delivered > 0) setImmediate(pump);
    else setTimeout(pump, IDLE_POLL_MS);
  };
  pump();

  port.on("message", (message: ToCaptureThread) => {
    switch (message.type) {
      case "open": {
        try {
          const opened = open(message);
          post({ type: "opened", id: message.id, ...opened });
        } catch (error) {
          post({
            type: "open-failed",
            id: message.id,
            message: error instanceof Error ? error.message : String(error),
          });
        }
        return;
      }
      case "close": {
        const replay = replays.get(message.session);
        if (replay !== undefined) {
          replays.delete(message.session);
          replay.builder.flush();
          return post({ type: "closed", id: message.id, stats: replay.pacer.stats() });
        }
        const live = sessions.get(message.session);
        if (live === undefined) return post({ type: "closed", id: message.id, stats: undefined });
        sessions.delete(message.session);
        finish(live);
        live.builder.flush();
        return post({ type: "closed", id: message.id, stats: live.lastStats });
      }
      case "flush": {
        const stats: Record<number, CaptureStats> = {};
        for (const [session, live] of sessions) {
          // Whatever the ring holds now goes into this flush too.
          read(live);
          live.builder.flush();
          stats[session] = readStats(live);
        }
        for (const [session, replay] of replays) {
          replay.pacer.pump();
          replay.builder.flush();
          stats[session] = replay.pacer.stats();
        }
        return post({ type: "flushed", id: message.id, stats });
      }
      case "recycle": {
        (sessions.get(message.session) ?? replays.get(message.session))?.builder.recycle(
          Buffer.from(message.buffer),
        );
        return;
      }
    }
  });
  post({ type: "ready", libraryVersion: binding.lib_version() });
}

main();
