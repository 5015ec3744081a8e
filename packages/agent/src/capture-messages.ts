// Messages between the agent's main thread and its capture thread
// (capture-worker.ts). Packets never cross one by one: the capture thread
// hands over sealed pcap chunks, their memory transferred, not copied, and
// takes full-size buffers back the same way once they are sent or dropped.

export interface CaptureStats {
  /** ps_recv: packets that passed the filter, as libpcap counts them (32-bit, wraps). */
  received: number;
  /** ps_drop: dropped because the capture buffer was full. */
  dropped: number;
  /** ps_ifdrop: dropped by the interface or its driver. */
  interfaceDropped: number;
}

export interface OpenCaptureRequest {
  device: string;
  /** BPF expression; "" for none. libpcap compiles it and refuses what does not compile. */
  filter: string;
  snapLength: number;
  bufferBytes: number;
  /** libpcap's read timeout: how long the kernel may hold a block of packets before handing it over. */
  timeoutMs: number;
  chunkMaxBytes: number;
  /** Open and close again at once: only tells whether libpcap accepts the device and filter. */
  probe?: boolean;
  /** Hand over what each read brought at once, instead of full or timed chunks (snapshots). */
  eager?: boolean;
  /** Replay this pcap file (libpcap's offline reader) at its own pace, in a loop, instead of capturing `device`. */
  replayFile?: string;
}

export type ToCaptureThread =
  | ({ type: "open"; id: number } & OpenCaptureRequest)
  /** Seals the session's chunk, closes its capture; answered with `closed`. */
  | { type: "close"; id: number; session: number }
  /** Seals every chunk that holds a packet; answered with `flushed` after the chunks. */
  | { type: "flush"; id: number }
  /** A full-size chunk buffer, back for reuse. */
  | { type: "recycle"; session: number; buffer: ArrayBuffer };

export type FromCaptureThread =
  | { type: "ready"; libraryVersion: string }
  | { type: "load-failed"; detail: string }
  | { type: "opened"; id: number; session: number; linkType: number }
  | { type: "open-failed"; id: number; message: string }
  | { type: "closed"; id: number; stats: CaptureStats | undefined }
  /** Stats by session id. */
  | { type: "flushed"; id: number; stats: Record<number, CaptureStats> }
  | {
      type: "chunk";
      session: number;
      device: string;
      linkType: number;
      /** Transferred: the pcap is bytes [0, byteLength). */
      buffer: ArrayBuffer;
      byteLength: number;
      packetCount: number;
      firstPacketAtUs: number;
      lastPacketAtUs: number;
    }
  /** The capture failed while running (interface down or gone); the thread closed it. */
  | { type: "stopped"; session: number; device: string; message: string; stats: CaptureStats }
  | { type: "warning"; device: string; message: string };

/** Where the binding lives, relative to the agent's own file (node_modules beside the bundle). */
export const BINDING_MODULE = "pcap/build/Release/pcap_binding.node";
