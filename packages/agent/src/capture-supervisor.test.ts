import { describe, expect, it } from "vitest";
import type { Capture, CaptureSession, OpenCaptureRequest } from "./capture.ts";
import { CaptureSupervisor } from "./capture-supervisor.ts";
import type { NetworkInterface } from "./interfaces.ts";
import { createLogger } from "./logger.ts";

const SETTINGS = {
  bpf: "",
  chunkMaxBytes: 1 << 20,
  captureNewDevices: true,
  includeList: [],
  excludeList: [],
  networkDevice: undefined,
};
const TUNING = { snapLength: 65535, captureBufferBytes: 1 << 20, captureTimeoutMs: 100 };

function nic(name: string, change: Partial<NetworkInterface> = {}): NetworkInterface {
  return { name, loopback: name === "lo", up: true, ifindex: 2, carrierChanges: 0, ...change };
}

/** A capture thread stand-in: records every open and close, refuses what `refuse` says. */
function recordingCapture(refuse: (request: OpenCaptureRequest) => string | undefined = () => undefined) {
  const events: string[] = [];
  let nextId = 1;
  const capture: Capture = {
    libraryVersion: "test",
    open: (request) => {
      const refusal = refuse(request);
      if (refusal !== undefined) return Promise.reject(new Error(refusal));
      events.push(`${request.probe === true ? "probe" : "open"} ${request.device} [${request.filter}]`);
      const session: CaptureSession = {
        id: nextId++,
        device: request.device,
        linkType: 1,
        stats: () => ({ received: 0, dropped: 0, interfaceDropped: 0 }),
      };
      return Promise.resolve(session);
    },
    close: (session) => {
      events.push(`close ${session.device}`);
      return Promise.resolve();
    },
    flush: () => Promise.resolve(),
    terminate: () => Promise.resolve(),
  };
  return { capture, events };
}

function supervise(options: {
  interfaces: () => NetworkInterface[];
  capture: Capture;
  settings?: Partial<typeof SETTINGS>;
  filter?: string;
}) {
  const lines: string[] = [];
  const supervisor = new CaptureSupervisor({
    capture: options.capture,
    settings: { ...SETTINGS, ...options.settings },
    filter: options.filter ?? "",
    tuning: TUNING,
    listInterfaces: () => Promise.resolve(options.interfaces()),
    log: createLogger({ level: 0, write: (line) => lines.push(line.replace(/^\S+ /, "").trimEnd()) }),
    onChunk: () => undefined,
  });
  return { supervisor, lines };
}

describe("CaptureSupervisor", () => {
  it("opens the selected interfaces, reopens a flapped or re-created one, and lets go of vanished ones", async () => {
    let interfaces = [nic("lo"), nic("eth0"), nic("eth1", { ifindex: 3 })];
    const { capture, events } = recordingCapture();
    const { supervisor, lines } = supervise({
      interfaces: () => interfaces,
      capture,
      filter: "not port 443",
    });

    await supervisor.reconcile();
    expect(supervisor.selectedAtStart).toBe(2);
    expect(supervisor.capturedInterfaces()).toEqual(["eth0", "eth1"]);
    expect(events.splice(0)).toEqual(["open eth0 [not port 443]", "open eth1 [not port 443]"]);
    expect(lines).toContain("[0] interfaces selected: eth0, eth1; skipped: lo (loopback)");

    interfaces = [nic("lo"), nic("eth0", { carrierChanges: 2 }), nic("eth1", { ifindex: 9 })];
    await supervisor.reconcile();
    expect(events.splice(0)).toEqual([
      "close eth0",
      "close eth1",
      "open eth0 [not port 443]",
      "open eth1 [not port 443]",
    ]);
    expect(lines).toContain("[0] stopped capturing on eth0: interface went down and up");
    expect(lines).toContain("[0] stopped capturing on eth1: interface re-created");

    interfaces = [nic("lo"), nic("eth0", { carrierChanges: 2, up: false })];
    await supervisor.reconcile();
    expect(events.splice(0)).toEqual(["close eth0", "close eth1"]);
    expect(supervisor.capturedInterfaces()).toEqual([]);
    // The vanished interface is reported once more, then forgotten; the down one stays.
    expect(supervisor.takeInterfaceStats().map((stats) => stats.name)).toEqual(["eth0", "eth1"]);
    expect(supervisor.takeInterfaceStats().map((stats) => stats.name)).toEqual(["eth0"]);
  });

  it("with NETWORK_DEVICE_ANY=0 keeps to the interfaces chosen at start", async () => {
    let interfaces = [nic("eth0")];
    const { capture, events } = recordingCapture();
    const { supervisor } = supervise({
      interfaces: () => interfaces,
      capture,
      settings: { captureNewDevices: false },
    });
    await supervisor.reconcile();
    interfaces = [nic("eth0"), nic("eth1", { ifindex: 3 })];
    await supervisor.reconcile();
    expect(events).toEqual(["open eth0 []"]);
  });

  it("stops with a reason when libpcap refuses the filter, and logs an unopenable interface once", async () => {
    const refusing = recordingCapture((request) => (request.filter === "" ? undefined : "syntax error"));
    const filtered = supervise({
      interfaces: () => [nic("eth0")],
      capture: refusing.capture,
      settings: { bpf: "tcp port" },
      filter: "tcp port",
    });
    await filtered.supervisor.reconcile();
    expect(filtered.supervisor.fatal).toBe('BPF: libpcap rejected the filter "tcp port": syntax error');
    expect(refusing.events).toEqual(["probe eth0 []"]);

    const missing = recordingCapture(() => "No such device");
    const unopenable = supervise({ interfaces: () => [nic("eth0")], capture: missing.capture });
    await unopenable.supervisor.reconcile();
    await unopenable.supervisor.reconcile();
    expect(unopenable.supervisor.fatal).toBeUndefined();
    expect(unopenable.lines.filter((line) => line.includes("cannot capture on eth0"))).toEqual([
      "[0] cannot capture on eth0: No such device",
    ]);
  });
});
