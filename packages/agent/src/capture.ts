// Capture through libpcap, via the native binding of the `pcap` npm package
// (node_pcap). The package is an optional dependency: it compiles against
// libpcap's headers at install time, and `npm install` must still succeed on
// a machine without them. So it is loaded lazily here, and a missing binding
// becomes one line saying what to install rather than a stack trace.
//
// We drive the binding directly instead of through node_pcap's JS session:
// that wrapper allocates an object and emits an event per packet, which is
// most of the per-packet cost at high rates.

import { createRequire } from "node:module";
import { linkTypeNumber } from "./decode.ts";

export interface CaptureStats {
  /** ps_recv: packets that passed the filter, as libpcap counts them (32-bit, wraps). */
  received: number;
  /** ps_drop: dropped because the capture buffer was full. */
  dropped: number;
  /** ps_ifdrop: dropped by the interface or its driver. */
  interfaceDropped: number;
}

export interface CaptureSession {
  readonly linkType: number;
  stats(): CaptureStats;
  close(): void;
}

export interface OpenCaptureOptions {
  device: string;
  /** BPF expression; "" for none. libpcap compiles it and throws if it does not compile. */
  filter: string;
  snapLength: number;
  bufferBytes: number;
  /** libpcap's read timeout: how long the kernel may hold a block of packets before handing it over. */
  timeoutMs: number;
  /**
   * Called for every packet. `data` and `header` are reused for the next
   * packet: copy what you keep. The header holds tv_sec, tv_usec, caplen,
   * len as host-order (little-endian here) 32-bit integers.
   */
  onPacket: (data: Buffer, header: Buffer) => void;
  /** The capture failed while running, typically because the interface went down or away. */
  onError: (error: Error) => void;
  /** libpcap's non-fatal warnings (an interface without an IPv4 address, for example). */
  onWarning: (message: string) => void;
}

export type OpenCapture = (options: OpenCaptureOptions) => CaptureSession;

interface NativeSession {
  open_live(
    device: string,
    filter: string,
    bufferSize: number,
    snapLength: number,
    outfile: string,
    packetReady: () => void,
    monitor: boolean,
    timeoutMs: number,
    warning: (message: string) => void,
    promiscuous: boolean,
  ): string;
  dispatch(buffer: Buffer, header: Buffer): number;
  start_polling(): void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  close(): void;
  read_callback?: () => void;
}

interface NativeBinding {
  PcapSession: new () => NativeSession;
  lib_version(): string;
}

export type LoadCaptureResult =
  { ok: true; openCapture: OpenCapture; libraryVersion: string } | { ok: false; reason: string };

/** Loads the native binding; on failure says why capture is impossible and what to install. */
export function loadCapture(requireFrom: string = import.meta.url): LoadCaptureResult {
  let binding: NativeBinding;
  try {
    binding = createRequire(requireFrom)("pcap/build/Release/pcap_binding.node") as NativeBinding;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
    return {
      ok: false,
      reason: `cannot capture: the libpcap binding (optional npm package "pcap") is not available (${detail}); install libpcap (Debian: apt-get install libpcap-dev) and run "npm rebuild pcap", or use the tapfleet-agent container image`,
    };
  }
  return {
    ok: true,
    openCapture: (options) => openWith(binding, options),
    libraryVersion: binding.lib_version(),
  };
}

function openWith(binding: NativeBinding, options: OpenCaptureOptions): CaptureSession {
  const native = new binding.PcapSession();
  const data = Buffer.alloc(options.snapLength);
  const header = Buffer.alloc(16);
  let open = true;
  const linkName = native.open_live(
    options.device,
    options.filter,
    options.bufferBytes,
    options.snapLength,
    "",
    () => options.onPacket(data, header),
    false,
    options.timeoutMs,
    options.onWarning,
    true,
  );
  native.read_callback = () => {
    if (!open) return;
    // dispatch loops until the socket is drained; -1 means libpcap gave up on
    // the handle (interface down or gone), and the poll would fire forever.
    if (native.dispatch(data, header) === -1 && open) {
      open = false;
      native.close();
      options.onError(new Error(`capture on ${options.device} stopped (interface down or gone)`));
    }
  };
  native.start_polling();
  // Packets that arrived before the poll started would otherwise wait for the next one.
  process.nextTick(native.read_callback);
  let lastStats: CaptureStats = { received: 0, dropped: 0, interfaceDropped: 0 };
  return {
    linkType: linkTypeNumber(linkName),
    stats() {
      if (!open) return lastStats;
      const raw = native.stats();
      lastStats = {
        received: raw.ps_recv >>> 0,
        dropped: raw.ps_drop >>> 0,
        interfaceDropped: raw.ps_ifdrop >>> 0,
      };
      return lastStats;
    },
    close() {
      if (!open) return;
      try {
        lastStats = this.stats();
      } catch {
        // The handle may already be unusable; keep the last numbers.
      }
      open = false;
      native.close();
    },
  };
}
