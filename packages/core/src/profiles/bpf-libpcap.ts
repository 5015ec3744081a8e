// BPF filters compiled by libpcap, the way the agent compiles them: the
// contract's syntactic pre-check (sensor/bpf.ts) runs everywhere, including
// the browser, but only pcap_compile is the judge. The server loads the same
// native binding the agent captures with (node_pcap) and compiles the filter
// against an empty Ethernet capture file, which needs no privilege. A server
// where the binding does not load refuses filters with a clear message rather
// than accept one it could not check.

import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

/** node_pcap's native module, as the agent loads it. */
const BINDING_MODULE = "pcap/build/Release/pcap_binding.node";

export type BpfCompileResult =
  | { ok: true }
  | { ok: false; reason: "invalid"; message: string }
  | { ok: false; reason: "unavailable"; message: string };

/** Compiles a filter; injected into the profile functions so tests can use another judge. */
export type BpfCompiler = (expression: string) => BpfCompileResult;

interface OfflineSession {
  open_offline(...args: unknown[]): string;
  close(): void;
}

let loaded: { Session: new () => OfflineSession; file: string } | { error: string } | undefined;

function load(): { Session: new () => OfflineSession; file: string } | { error: string } {
  if (loaded) return loaded;
  try {
    const binding = createRequire(import.meta.url)(BINDING_MODULE) as {
      PcapSession: new () => OfflineSession;
    };
    // An empty classic pcap file: the global header only, link type Ethernet (1), snap length 65535.
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(65535, 16);
    header.writeUInt32LE(1, 20);
    const file = path.join(mkdtempSync(path.join(tmpdir(), "tapfleet-bpf-")), "empty.pcap");
    writeFileSync(file, header);
    loaded = { Session: binding.PcapSession, file };
  } catch (error) {
    loaded = { error: error instanceof Error ? error.message : String(error) };
  }
  return loaded;
}

/** Compiles `expression` with libpcap (pcap_compile on an Ethernet link); "" is no filter. */
export const compileBpfWithLibpcap: BpfCompiler = (expression) => {
  if (expression.trim() === "") return { ok: true };
  const binding = load();
  if ("error" in binding) {
    return {
      ok: false,
      reason: "unavailable",
      message: `this server cannot compile BPF filters with libpcap (its binding did not load: ${binding.error}); install libpcap or leave BPF empty`,
    };
  }
  const session = new binding.Session();
  try {
    session.open_offline(
      binding.file,
      expression,
      0,
      65535,
      "",
      () => undefined,
      false,
      0,
      () => undefined,
      false,
    );
    session.close();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: "invalid", message: error instanceof Error ? error.message : String(error) };
  }
};
