// One capture session per selected interface: chooses the interfaces, opens
// a session on each through the capture thread, reopens it when its
// interface went down and up or was re-created, lets go of interfaces that
// vanish, and counts every captured packet per interface for the reports.

import { matchInterfaces } from "@tapfleet/sensor/interface-patterns";
import type { InterfaceStats } from "@tapfleet/sensor/protocol";
import type { ResolvedSensorSettings } from "@tapfleet/sensor/settings";
import type { AgentTuning } from "./agent-tuning.ts";
import type { Capture, CaptureSession, CaptureStats } from "./capture.ts";
import { causeMessage } from "./cause-message.ts";
import { InterfaceCounters } from "./interface-stats.ts";
import type { ListInterfaces, NetworkInterface } from "./interfaces.ts";
import { hexDump, type Logger } from "./logger.ts";
import type { SealedChunk } from "./pcap-chunk.ts";

export interface CaptureSupervisorOptions {
  /** The capture thread. */
  capture: Capture;
  settings: Pick<
    ResolvedSensorSettings,
    "bpf" | "chunkMaxBytes" | "captureNewDevices" | "includeList" | "excludeList" | "networkDevice"
  >;
  /** What every session captures: the user's BPF with the agent's own traffic left out. */
  filter: string;
  tuning: Pick<AgentTuning, "snapLength" | "captureBufferBytes" | "captureTimeoutMs">;
  listInterfaces: ListInterfaces;
  log: Logger;
  /** Every sealed chunk, once its packets are counted. */
  onChunk: (chunk: SealedChunk) => void;
}

interface CaptureEntry {
  session: CaptureSession;
  /** The interface as it was when the session opened; any change means the session is dead. */
  ifindex: number;
  carrierChanges: number;
}

export class CaptureSupervisor {
  private readonly counters = new Map<string, InterfaceCounters>();
  private readonly captures = new Map<string, CaptureEntry>();
  /** Interfaces gone since the last report: reported once more with their final counters, then forgotten. */
  private readonly vanished = new Set<string>();
  private readonly failedOnce = new Set<string>();
  private readonly dumpPackets: boolean;
  private fixedSelection: Set<string> | undefined;
  /** What the last reconcile wanted and found, for `interfaceHealth`. */
  private lastWanted: string[] = [];
  private lastPresent = new Map<string, NetworkInterface>();
  private readonly openErrors = new Map<string, string>();
  private reconciling = false;
  /** Why capturing cannot go on (libpcap refuses the filter); set by a reconcile. */
  fatal: string | undefined;

  constructor(private readonly options: CaptureSupervisorOptions) {
    this.dumpPackets = options.log.enabled(5);
  }

  /** How many interfaces the first reconcile selected. */
  get selectedAtStart(): number {
    return this.fixedSelection?.size ?? 0;
  }

  /** Every interface the node had at the last look, captured or not. */
  presentInterfaces(): string[] {
    return [...this.lastPresent.keys()].sort();
  }

  /** The interfaces with an open session. */
  capturedInterfaces(): string[] {
    return [...this.captures.keys()];
  }

  /**
   * The open interfaces, and each selected one without a session with why
   * (as the readiness probe words it: "eth0 down").
   */
  interfaceHealth(): { open: string[]; closed: Array<{ name: string; reason: string }> } {
    const { settings } = this.options;
    const open = this.capturedInterfaces();
    const expected = new Set(this.lastWanted);
    if (!settings.captureNewDevices) for (const name of this.fixedSelection ?? []) expected.add(name);
    if (settings.networkDevice !== undefined) expected.add(settings.networkDevice);
    const closed: Array<{ name: string; reason: string }> = [];
    for (const name of [...expected].sort()) {
      if (this.captures.has(name)) continue;
      const present = this.lastPresent.get(name);
      const failure = this.openErrors.get(name);
      closed.push({
        name,
        reason:
          present === undefined
            ? "not present"
            : !present.up
              ? "down"
              : failure !== undefined
                ? `cannot capture: ${failure}`
                : "not open yet",
      });
    }
    return { open, closed };
  }

  /**
   * Every captured packet arrives in a chunk, in order: counted here (a chunk
   * at a time, off the capture thread), then handed on.
   */
  chunkCaptured(chunk: SealedChunk & { linkType: number }): void {
    const { log } = this.options;
    const name = chunk.interfaceName;
    this.counters
      .get(name)
      ?.recordChunk(
        chunk.linkType,
        chunk.pcap,
        this.dumpPackets
          ? (data, wireLength) => log.log(5, `packet on ${name}, ${wireLength} bytes:\n${hexDump(data)}`)
          : undefined,
      );
    if (log.enabled(4)) {
      log.log(
        4,
        `chunk ${chunk.interfaceName}: ${chunk.packetCount} packets, ${chunk.pcap.byteLength} bytes, ${new Date(chunk.firstPacketAtUs / 1000).toISOString()} – ${new Date(chunk.lastPacketAtUs / 1000).toISOString()}`,
      );
    }
    this.options.onChunk(chunk);
  }

  /** A session stopped by itself: the capture thread closed the handle already. */
  captureStopped(name: string, error: Error, stats: CaptureStats): void {
    // Fold in its last counters and let the next poll reopen.
    const entry = this.captures.get(name);
    this.captures.delete(name);
    if (entry !== undefined) this.counters.get(name)?.updateDrops(stats);
    // Same line as when the interface poll notices first: which of the two wins is a race.
    this.options.log.log(0, `stopped capturing on ${name}: interface down or gone`);
    this.options.log.log(3, error.message);
  }

  /** Reconciles unless a reconcile is still running (a slow interface listing). */
  poll(): void {
    if (this.reconciling) return;
    this.reconciling = true;
    void this.reconcile().finally(() => {
      this.reconciling = false;
    });
  }

  /** Reads the interface list and opens, reopens and closes sessions to match the selection. */
  async reconcile(): Promise<void> {
    const { settings, log } = this.options;
    let present: Awaited<ReturnType<ListInterfaces>>;
    try {
      present = await this.options.listInterfaces();
    } catch (error) {
      log.log(0, `cannot list network interfaces: ${causeMessage(error)}`);
      return;
    }
    const loopbacks = new Set(present.filter((item) => item.loopback).map((item) => item.name));
    const names = present.map((item) => item.name);
    let wanted: string[];
    if (settings.captureNewDevices || this.fixedSelection === undefined) {
      const selection = matchInterfaces({
        names,
        include: settings.includeList,
        exclude: settings.excludeList,
        device: settings.networkDevice,
        isLoopback: (name) => loopbacks.has(name),
      });
      wanted = selection.selected;
      if (this.fixedSelection === undefined) {
        this.fixedSelection = new Set(wanted);
        log.log(
          0,
          `interfaces selected: ${wanted.join(", ") || "none"}; skipped: ${selection.skipped.map((skip) => `${skip.name} (${skip.reason})`).join(", ") || "none"}`,
        );
      }
    } else {
      // NETWORK_DEVICE_ANY=0: the interfaces chosen at start, whenever they are present.
      const fixed = this.fixedSelection;
      wanted = names.filter((name) => fixed.has(name));
    }
    const wantedSet = new Set(wanted);
    const byName = new Map(present.map((item) => [item.name, item]));
    this.lastWanted = wanted;
    this.lastPresent = byName;
    for (const [name, entry] of [...this.captures]) {
      const current = byName.get(name);
      if (!wantedSet.has(name)) {
        await this.closeCapture(name, "interface vanished");
        this.vanished.add(name);
      } else if (current === undefined || !current.up) {
        await this.closeCapture(name, "interface down");
      } else if (current.ifindex !== entry.ifindex || current.carrierChanges !== entry.carrierChanges) {
        // Re-created or flapped since the session opened: its socket no longer delivers.
        await this.closeCapture(
          name,
          current.ifindex !== entry.ifindex ? "interface re-created" : "interface went down and up",
        );
      }
    }
    for (const name of this.counters.keys())
      if (!wantedSet.has(name) && !this.captures.has(name)) this.vanished.add(name);
    for (const name of wanted) {
      const item = byName.get(name);
      // A down interface is opened when it comes up (libpcap's socket on it would die at once).
      if (this.captures.has(name) || item === undefined || !item.up) continue;
      try {
        await this.openCapture(name, item);
      } catch (error) {
        if (await this.filterIsTheProblem(name)) {
          this.fatal = `BPF: libpcap rejected the filter "${settings.bpf}": ${causeMessage(error)}`;
          return;
        }
        // Logged once per outage: an interface that is down fails every poll.
        if (!this.failedOnce.has(name)) log.log(0, `cannot capture on ${name}: ${causeMessage(error)}`);
        this.openErrors.set(name, causeMessage(error));
        this.failedOnce.add(name);
      }
    }
  }

  /** Closes every open session. */
  async closeAll(why: string): Promise<void> {
    for (const name of [...this.captures.keys()]) await this.closeCapture(name, why);
  }

  /**
   * Each interface's counters since the last call, with libpcap's drop
   * counters refreshed; interfaces gone since then appear this once more.
   */
  takeInterfaceStats(): InterfaceStats[] {
    const interfaces: InterfaceStats[] = [];
    for (const [name, interfaceCounters] of this.counters) {
      const entry = this.captures.get(name);
      if (entry !== undefined) interfaceCounters.updateDrops(entry.session.stats());
      interfaces.push(interfaceCounters.takeSnapshot());
    }
    for (const name of this.vanished) this.counters.delete(name);
    this.vanished.clear();
    return interfaces;
  }

  private async closeCapture(name: string, why: string): Promise<void> {
    const entry = this.captures.get(name);
    if (entry === undefined) return;
    this.captures.delete(name);
    await this.options.capture.close(entry.session);
    this.counters.get(name)?.updateDrops(entry.session.stats());
    this.options.log.log(0, `stopped capturing on ${name}: ${why}`);
  }

  private async openCapture(name: string, present: NetworkInterface): Promise<void> {
    const { settings, tuning } = this.options;
    let interfaceCounters = this.counters.get(name);
    if (interfaceCounters === undefined) {
      interfaceCounters = new InterfaceCounters(name);
      this.counters.set(name, interfaceCounters);
    }
    this.vanished.delete(name);
    interfaceCounters.sessionRestarted();
    const session = await this.options.capture.open({
      device: name,
      filter: this.options.filter,
      snapLength: tuning.snapLength,
      bufferBytes: tuning.captureBufferBytes,
      timeoutMs: tuning.captureTimeoutMs,
      chunkMaxBytes: settings.chunkMaxBytes,
    });
    this.captures.set(name, {
      session,
      ifindex: present.ifindex,
      carrierChanges: present.carrierChanges,
    });
    this.failedOnce.delete(name);
    this.openErrors.delete(name);
    this.options.log.log(
      0,
      `capturing on ${name}${settings.bpf === "" ? "" : ` with filter "${settings.bpf}"`} (link type ${session.linkType})`,
    );
  }

  /** Is it the filter that libpcap refuses? Opening the same interface without it tells. */
  private async filterIsTheProblem(name: string): Promise<boolean> {
    if (this.options.filter === "") return false;
    try {
      await this.options.capture.open({
        device: name,
        filter: "",
        snapLength: 64,
        bufferBytes: 1 << 20,
        timeoutMs: 1000,
        chunkMaxBytes: 64 * 1024,
        probe: true,
      });
      return true;
    } catch {
      return false;
    }
  }
}
