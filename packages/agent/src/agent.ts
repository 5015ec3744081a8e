// The agent's life: read settings, write the config file, choose interfaces,
// capture on each, count, forward chunks, report every interval, and on
// SIGTERM flush what it can and exit. Side effects (clock, timers, interface
// listing, the capture binding, the collector client) come in through
// options so that tests can drive each part without mocking modules.

// The contract's modules by subpath: the agent needs neither the manifests
// nor the import code, and the YAML library they load costs memory.
import { matchInterfaces } from "@tapfleet/sensor/interface-patterns";
import {
  CONTENT_TYPES,
  encodeChunkUploadParts,
  encodeStatsReport,
  INGEST_PATHS,
  MAX_INTERFACES_PER_REPORT,
  PROTOCOL_VERSION,
  ZIngestResponseSchema,
  type AgentIdentity,
  type InterfaceStats,
  type StatsReport,
} from "@tapfleet/sensor/protocol";
import type { SensorEnv } from "@tapfleet/sensor/settings";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { AGENT_VERSION, loadAgentSettings, type AgentSettings } from "./agent-settings.ts";
import { captureThreadSnapshotSource } from "./antigena/libpcap-source.ts";
import { AntigenaPoller } from "./antigena/poller.ts";
import {
  loadCapture,
  type CaptureEvents,
  type CaptureSession,
  type CaptureStats,
  type LoadCaptureResult,
} from "./capture.ts";
import { ChunkForwarder, type ChunkSendOutcome } from "./chunk-forwarder.ts";
import { createCollectorClient, type CollectorClient } from "./collector-client.ts";
import { renderConfigFile, writeConfigFile } from "./config-file.ts";
import { InterfaceCounters } from "./interface-stats.ts";
import { sysfsInterfaceLister, type ListInterfaces, type NetworkInterface } from "./interfaces.ts";
import { createLogger, hexDump, type Logger, type LogLevel } from "./logger.ts";
import type { SealedChunk } from "./pcap-chunk.ts";
import { ReportOutbox, type SendOutcome } from "./report-outbox.ts";

/** Exit codes: meaningful to whoever reads `kubectl get pods` and the CLI. */
export const EXIT = { ok: 0, failed: 1, badSettings: 2, cannotCapture: 3 } as const;

export interface AgentTuning {
  /** How often the interface list is read again (new and vanished interfaces). */
  interfacePollMs: number;
  /** A chunk is sealed at least this often, so quiet interfaces still upload. */
  chunkFlushMs: number;
  maxQueuedChunks: number;
  maxQueuedReports: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** On SIGTERM: how long to keep trying to deliver queued reports. */
  shutdownFlushMs: number;
  snapLength: number;
  captureBufferBytes: number;
  captureTimeoutMs: number;
}

export const DEFAULT_TUNING: AgentTuning = {
  interfacePollMs: 1000,
  chunkFlushMs: 1000,
  maxQueuedChunks: 4,
  // An hour of reports at the default 10 s interval.
  maxQueuedReports: 360,
  backoffBaseMs: 1000,
  backoffCapMs: 30_000,
  shutdownFlushMs: 5000,
  snapLength: 65535,
  // Per interface and resident. 4 MiB lost packets above 150k pps on a busy
  // machine where tcpdump did not; 8 MiB kept up to 300k (docs/benchmarks.md).
  captureBufferBytes: 8 * 1024 * 1024,
  captureTimeoutMs: 100,
};

export interface Timers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface RunAgentOptions {
  env: SensorEnv;
  now?: () => number;
  random?: () => number;
  timers?: Timers;
  listInterfaces?: ListInterfaces;
  loadCapture?: (events: CaptureEvents) => Promise<LoadCaptureResult>;
  createClient?: (agent: AgentSettings) => CollectorClient;
  write?: (line: string) => void;
  writeError?: (line: string) => void;
  /** Resolves a host name to addresses (default: the system resolver). */
  resolveHost?: (host: string) => Promise<string[]>;
  /** Registers the stop handler (default: SIGTERM and SIGINT). */
  onStopSignal?: (stop: () => void) => void;
  tuning?: Partial<AgentTuning>;
}

interface CaptureEntry {
  session: CaptureSession;
  /** The interface as it was when the session opened; any change means the session is dead. */
  ifindex: number;
  carrierChanges: number;
}

/** Runs until stopped; resolves to the process exit code. */
export async function runAgent(options: RunAgentOptions): Promise<number> {
  const now = options.now ?? Date.now;
  const writeError = options.writeError ?? ((line: string) => process.stderr.write(line));
  const tuning = { ...DEFAULT_TUNING, ...options.tuning };
  const timers: Timers = options.timers ?? {
    setInterval: (callback, ms) => setInterval(callback, ms),
    clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
  };
  const startedAt = now();

  const loaded = loadAgentSettings(options.env);
  if (!loaded.ok) {
    writeError(`tapfleet-agent: ${loaded.line}\n`);
    return EXIT.badSettings;
  }
  const agent = loaded.value;
  const settings = agent.resolved;
  const log = createLogger({ level: settings.debugLevel as LogLevel, write: options.write, writeError, now });
  log.log(
    0,
    `tapfleet-agent ${AGENT_VERSION} starting on node ${agent.nodeName} (config hash ${agent.configHash.slice(0, 12)})`,
  );
  for (const warning of agent.warnings) log.log(0, `warning: ${warning}`);

  try {
    await writeConfigFile(settings.configPath, renderConfigFile(agent, startedAt));
    log.log(0, `config file written to ${settings.configPath}`);
  } catch (error) {
    writeError(
      `tapfleet-agent: cannot write the config file ${settings.configPath} (OSSENSOR_CONFIG_PATH): ${causeMessage(error)}\n`,
    );
    return EXIT.failed;
  }

  // Packets are read on a capture thread of its own (capture.ts); its events
  // land here, and are handled by the parts set up below.
  let stopRequested: (() => void) | undefined;
  let exitCode: number = EXIT.ok;
  const loadedCapture = await (options.loadCapture ?? loadCapture)({
    onChunk: (chunk) => onCapturedChunk(chunk),
    onStopped: (device, error, stats) => onCaptureStopped(device, error, stats),
    onWarning: (device, message) => log.log(3, `libpcap on ${device}: ${message}`),
    onFailed: (error) => {
      log.error(`capture failed: ${error.message}`);
      exitCode = EXIT.failed;
      stopRequested?.();
    },
  });
  if (!loadedCapture.ok) {
    writeError(`tapfleet-agent: ${loadedCapture.reason}\n`);
    return EXIT.cannotCapture;
  }
  const capture = loadedCapture.capture;
  log.log(0, `capturing with ${capture.libraryVersion}`);

  const client = (
    options.createClient ?? ((a: AgentSettings) => createCollectorClient({ settings: a.resolved, now }))
  )(agent);
  log.log(0, `collector ${client.origin}${client.proxy === undefined ? "" : ` via proxy ${client.proxy}`}`);

  // The agent's own uploads cross the interfaces it captures (the node's
  // uplink): captured and forwarded again, they would feed back into ever
  // larger uploads. So every capture leaves out TCP to the peer it talks to.
  const captureFilter = await selfExcludingFilter(
    settings.bpf,
    client.peer,
    options.resolveHost ??
      (async (host) => (await lookup(host, { all: true })).map((entry) => entry.address)),
  );
  if (captureFilter.excluded === undefined) {
    log.log(
      0,
      `cannot resolve ${client.peer.host} to leave the agent's own traffic out of the capture: ${captureFilter.problem}`,
    );
  } else {
    log.log(0, `own traffic left out of the capture: ${captureFilter.excluded}`);
  }

  const identity = (sequence: number): AgentIdentity => ({
    clusterId: settings.clusterId,
    nodeName: agent.nodeName,
    podName: agent.podName,
    agentVersion: AGENT_VERSION,
    configHash: agent.configHash,
    startedAt,
    sequence,
  });

  // ---------------------------------------------------------------------------
  // Chunk forwarding

  let chunkSequence = 0;
  const forwarder = new ChunkForwarder({
    bytesPerSecond: settings.uploadBytesPerSecond,
    chunkMaxBytes: settings.chunkMaxBytes,
    maxQueuedChunks: tuning.maxQueuedChunks,
    concurrency: 2,
    now,
    send: async (chunk): Promise<ChunkSendOutcome> => {
      // Metadata line and pcap go out one after the other: the chunk is not
      // copied into an upload body, and its buffer is released once sent.
      const parts = encodeChunkUploadParts(
        {
          protocolVersion: PROTOCOL_VERSION,
          agent: identity(chunkSequence++),
          interface: chunk.interfaceName,
          firstPacketAtUs: chunk.firstPacketAtUs,
          lastPacketAtUs: chunk.lastPacketAtUs,
          packetCount: chunk.packetCount,
          pcapBytes: chunk.pcap.byteLength,
        },
        chunk.pcap,
      );
      const response = await client.post(INGEST_PATHS.chunks, parts, CONTENT_TYPES.chunk);
      log.log(
        2,
        `chunk of ${chunk.packetCount} packets (${parts[0].byteLength + parts[1].byteLength} bytes) from ${chunk.interfaceName} sent: HTTP ${response.status}`,
      );
      if (response.status >= 200 && response.status < 300) return { ok: true };
      return { ok: false, reason: response.status === 413 ? "too_large" : "server_rejected" };
    },
    onDropped: (chunk, reason) => {
      log.log(
        2,
        `chunk of ${chunk.packetCount} packets (${chunk.pcap.byteLength} bytes) from ${chunk.interfaceName} not sent: ${reason}`,
      );
      chunk.release();
    },
    onSent: (chunk) => chunk.release(),
  });
  const onSealed = (chunk: SealedChunk): void => {
    if (log.enabled(4)) {
      log.log(
        4,
        `chunk ${chunk.interfaceName}: ${chunk.packetCount} packets, ${chunk.pcap.byteLength} bytes, ${new Date(chunk.firstPacketAtUs / 1000).toISOString()} – ${new Date(chunk.lastPacketAtUs / 1000).toISOString()}`,
      );
    }
    forwarder.submit(chunk);
  };

  // ---------------------------------------------------------------------------
  // Capture: one session per selected interface

  const counters = new Map<string, InterfaceCounters>();
  const captures = new Map<string, CaptureEntry>();
  /** Interfaces gone since the last report: reported once more with their final counters, then forgotten. */
  const vanished = new Set<string>();
  const failedOnce = new Set<string>();
  const listInterfaces = options.listInterfaces ?? sysfsInterfaceLister();
  let fixedSelection: Set<string> | undefined;
  let fatal: string | undefined;

  // Every captured packet arrives in a chunk, in order: counted here (a
  // chunk at a time, off the capture thread), then forwarded.
  const dumpPackets = log.enabled(5);
  const onCapturedChunk = (chunk: SealedChunk & { linkType: number }): void => {
    const name = chunk.interfaceName;
    counters
      .get(name)
      ?.recordChunk(
        chunk.linkType,
        chunk.pcap,
        dumpPackets
          ? (data, wireLength) => log.log(5, `packet on ${name}, ${wireLength} bytes:\n${hexDump(data)}`)
          : undefined,
      );
    onSealed(chunk);
  };

  const onCaptureStopped = (name: string, error: Error, stats: CaptureStats): void => {
    // The capture thread closed the handle already; fold in its last counters and let the next poll reopen.
    const entry = captures.get(name);
    captures.delete(name);
    if (entry !== undefined) counters.get(name)?.updateDrops(stats);
    // Same line as when the interface poll notices first: which of the two wins is a race.
    log.log(0, `stopped capturing on ${name}: interface down or gone`);
    log.log(3, error.message);
  };

  const closeCapture = async (name: string, why: string): Promise<void> => {
    const entry = captures.get(name);
    if (entry === undefined) return;
    captures.delete(name);
    await capture.close(entry.session);
    counters.get(name)?.updateDrops(entry.session.stats());
    log.log(0, `stopped capturing on ${name}: ${why}`);
  };

  const openCapture = async (name: string, present: NetworkInterface): Promise<void> => {
    let interfaceCounters = counters.get(name);
    if (interfaceCounters === undefined) {
      interfaceCounters = new InterfaceCounters(name);
      counters.set(name, interfaceCounters);
    }
    vanished.delete(name);
    interfaceCounters.sessionRestarted();
    const session = await capture.open({
      device: name,
      filter: captureFilter.expression,
      snapLength: tuning.snapLength,
      bufferBytes: tuning.captureBufferBytes,
      timeoutMs: tuning.captureTimeoutMs,
      chunkMaxBytes: settings.chunkMaxBytes,
    });
    captures.set(name, {
      session,
      ifindex: present.ifindex,
      carrierChanges: present.carrierChanges,
    });
    failedOnce.delete(name);
    log.log(
      0,
      `capturing on ${name}${settings.bpf === "" ? "" : ` with filter "${settings.bpf}"`} (link type ${session.linkType})`,
    );
  };

  /** Is it the filter that libpcap refuses? Opening the same interface without it tells. */
  const filterIsTheProblem = async (name: string): Promise<boolean> => {
    if (captureFilter.expression === "") return false;
    try {
      await capture.open({
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
  };

  const reconcile = async (): Promise<void> => {
    let present: Awaited<ReturnType<ListInterfaces>>;
    try {
      present = await listInterfaces();
    } catch (error) {
      log.log(0, `cannot list network interfaces: ${causeMessage(error)}`);
      return;
    }
    const loopbacks = new Set(present.filter((item) => item.loopback).map((item) => item.name));
    const names = present.map((item) => item.name);
    let wanted: string[];
    if (settings.captureNewDevices || fixedSelection === undefined) {
      const selection = matchInterfaces({
        names,
        include: settings.includeList,
        exclude: settings.excludeList,
        device: settings.networkDevice,
        isLoopback: (name) => loopbacks.has(name),
      });
      wanted = selection.selected;
      if (fixedSelection === undefined) {
        fixedSelection = new Set(wanted);
        log.log(
          0,
          `interfaces selected: ${wanted.join(", ") || "none"}; skipped: ${selection.skipped.map((skip) => `${skip.name} (${skip.reason})`).join(", ") || "none"}`,
        );
      }
    } else {
      // NETWORK_DEVICE_ANY=0: the interfaces chosen at start, whenever they are present.
      wanted = names.filter((name) => fixedSelection!.has(name));
    }
    const wantedSet = new Set(wanted);
    const byName = new Map(present.map((item) => [item.name, item]));
    for (const [name, entry] of [...captures]) {
      const now = byName.get(name);
      if (!wantedSet.has(name)) {
        await closeCapture(name, "interface vanished");
        vanished.add(name);
      } else if (now === undefined || !now.up) {
        await closeCapture(name, "interface down");
      } else if (now.ifindex !== entry.ifindex || now.carrierChanges !== entry.carrierChanges) {
        // Re-created or flapped since the session opened: its socket no longer delivers.
        await closeCapture(
          name,
          now.ifindex !== entry.ifindex ? "interface re-created" : "interface went down and up",
        );
      }
    }
    for (const name of counters.keys()) if (!wantedSet.has(name) && !captures.has(name)) vanished.add(name);
    for (const name of wanted) {
      const item = byName.get(name);
      // A down interface is opened when it comes up (libpcap's socket on it would die at once).
      if (captures.has(name) || item === undefined || !item.up) continue;
      try {
        await openCapture(name, item);
      } catch (error) {
        if (await filterIsTheProblem(name)) {
          fatal = `BPF: libpcap rejected the filter "${settings.bpf}": ${causeMessage(error)}`;
          return;
        }
        // Logged once per outage: an interface that is down fails every poll.
        if (!failedOnce.has(name)) log.log(0, `cannot capture on ${name}: ${causeMessage(error)}`);
        failedOnce.add(name);
      }
    }
  };

  await reconcile();
  if (fatal !== undefined) {
    for (const name of [...captures.keys()]) await closeCapture(name, "stopping");
    await capture.terminate();
    writeError(`tapfleet-agent: ${fatal}\n`);
    await client.close();
    return EXIT.badSettings;
  }
  if ((fixedSelection?.size ?? 0) === 0 && !settings.captureNewDevices) {
    writeError(
      `tapfleet-agent: no interface to capture on (check OSSENSOR_NETWORK_DEVICE and NETWORK_DEVICE_INCLUDELIST/EXCLUDELIST, or set NETWORK_DEVICE_ANY=1 to wait for one)\n`,
    );
    await capture.terminate();
    await client.close();
    return EXIT.failed;
  }

  // Antigena (response actions) lives in ./antigena/; it reads the capture state through these callbacks.
  const antigena = settings.antigenaEnabled
    ? new AntigenaPoller({
        client,
        nodeName: agent.nodeName,
        identity,
        agentVersion: AGENT_VERSION,
        periodSeconds: settings.antigenaTimePeriodSeconds,
        log,
        now,
        random: options.random,
        backoffBaseMs: tuning.backoffBaseMs,
        backoffCapMs: tuning.backoffCapMs,
        snapshot: {
          source: captureThreadSnapshotSource(capture, {
            snapLength: tuning.snapLength,
            bufferBytes: tuning.captureBufferBytes,
            timeoutMs: tuning.captureTimeoutMs,
          }),
          capturedInterfaces: () => [...captures.keys()],
          baseFilter: captureFilter.expression,
          snapLength: tuning.snapLength,
          captureTimeoutMs: tuning.captureTimeoutMs,
        },
      })
    : undefined;

  // ---------------------------------------------------------------------------
  // Reports

  let reportSequence = 0;
  let announcedDesiredHash: string | undefined;
  const outbox = new ReportOutbox({
    maxReports: tuning.maxQueuedReports,
    backoffBaseMs: tuning.backoffBaseMs,
    backoffCapMs: tuning.backoffCapMs,
    random: options.random,
    send: async (body, sequence): Promise<SendOutcome> => {
      let status: number;
      let text: string;
      try {
        ({ status, body: text } = await client.post(INGEST_PATHS.reports, body, CONTENT_TYPES.report));
      } catch (error) {
        log.log(2, `report #${sequence} (${body.length} bytes) not sent: ${causeMessage(error)}`);
        return "retry";
      }
      log.log(2, `report #${sequence} (${body.length} bytes) sent: HTTP ${status} ${text.slice(0, 200)}`);
      const parsed = safeJson(text);
      const answer = ZIngestResponseSchema.safeParse(parsed);
      if (answer.success && answer.data.ok && answer.data.desiredConfigHash !== undefined) {
        const desired = answer.data.desiredConfigHash;
        if (desired !== agent.configHash && desired !== announcedDesiredHash) {
          announcedDesiredHash = desired;
          log.log(
            0,
            `the server expects config ${desired.slice(0, 12)}; this agent runs ${agent.configHash.slice(0, 12)} (a rollout is pending)`,
          );
        }
      }
      if (status >= 200 && status < 300) return "sent";
      // Refusals that a later attempt can cure: overload, auth (a key rotation in progress), server errors.
      if (status === 401 || status === 408 || status === 429 || status >= 500) return "retry";
      return "rejected";
    },
    onDropped: (sequence, reason) =>
      log.log(
        0,
        `report #${sequence} dropped: ${reason === "outbox_full" ? `outbox full (${tuning.maxQueuedReports} reports waiting)` : "the server rejected it"}`,
      ),
    onRetry: (sequence, attempt, delayMs) =>
      log.log(
        2,
        `report #${sequence}: collector unavailable, retry ${attempt + 1} in ${delayMs} ms (${outbox.length} waiting)`,
      ),
  });

  const buildReport = (): StatsReport => {
    const interfaces: InterfaceStats[] = [];
    for (const [name, interfaceCounters] of counters) {
      const entry = captures.get(name);
      if (entry !== undefined) interfaceCounters.updateDrops(entry.session.stats());
      interfaces.push(interfaceCounters.takeSnapshot());
    }
    for (const name of vanished) counters.delete(name);
    vanished.clear();
    interfaces.sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
    if (interfaces.length > MAX_INTERFACES_PER_REPORT) {
      log.log(
        0,
        `${interfaces.length} interfaces; the report carries the ${MAX_INTERFACES_PER_REPORT} busiest`,
      );
      interfaces.length = MAX_INTERFACES_PER_REPORT;
    }
    const upload = forwarder.stats;
    return {
      protocolVersion: PROTOCOL_VERSION,
      agent: identity(reportSequence++),
      sentAt: now(),
      reportIntervalSeconds: settings.reportIntervalSeconds,
      interfaces,
      upload: {
        chunksSent: upload.chunksSent,
        bytesSent: upload.bytesSent,
        chunksDropped: { ...upload.chunksDropped },
        ...reportsDropped(),
      },
      ...(antigena === undefined ? {} : { antigena: antigena.stats() }),
    };
  };

  /** The outbox's losses so far, by reason; nothing while there are none. */
  const reportsDropped = () => {
    const dropped = {
      ...(outbox.droppedFull > 0 ? { outbox_full: outbox.droppedFull } : {}),
      ...(outbox.droppedRejected > 0 ? { rejected: outbox.droppedRejected } : {}),
    };
    return Object.keys(dropped).length > 0 ? { reportsDropped: dropped } : {};
  };

  const report = async (): Promise<void> => {
    // Chunks sealed by the flush are counted before it resolves, and libpcap's counters refreshed.
    await capture.flush();
    const built = buildReport();
    logStats(log, built);
    if (antigena !== undefined) log.log(1, antigena.describeStats());
    outbox.enqueue(built.agent.sequence, encodeStatsReport(built));
  };

  // ---------------------------------------------------------------------------
  // Run until stopped

  let reconciling = false;
  const pollHandle = timers.setInterval(() => {
    if (reconciling) return;
    reconciling = true;
    void reconcile().finally(() => {
      reconciling = false;
    });
  }, tuning.interfacePollMs);
  const flushHandle = timers.setInterval(() => void capture.flush(), tuning.chunkFlushMs);
  const reportHandle = timers.setInterval(() => void report(), settings.reportIntervalSeconds * 1000);
  antigena?.start();

  await new Promise<void>((resolve) => {
    const register =
      options.onStopSignal ??
      ((stop: () => void) => {
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
    register(resolve);
    stopRequested = resolve;
  });

  log.log(0, "stopping: final report, then flushing");
  timers.clearInterval(pollHandle);
  timers.clearInterval(flushHandle);
  timers.clearInterval(reportHandle);
  await antigena?.stop(tuning.shutdownFlushMs);
  for (const name of [...captures.keys()]) await closeCapture(name, "stopping");
  await report();
  await capture.terminate();
  await Promise.race([
    forwarder.idle(),
    new Promise((resolve) => setTimeout(resolve, tuning.shutdownFlushMs)),
  ]);
  const unsent = await outbox.flush(tuning.shutdownFlushMs);
  if (unsent > 0) log.log(0, `${unsent} report(s) could not be delivered before exit`);
  await client.close().catch(() => undefined);
  log.log(0, "stopped");
  return exitCode;
}

function logStats(log: Logger, report: StatsReport): void {
  if (!log.enabled(1)) return;
  for (const item of report.interfaces) {
    const p = item.protocols;
    const talkers = item.topTalkers
      .slice(0, 3)
      .map((talker) => `${talker.address} ${talker.bytes}B`)
      .join(", ");
    log.log(
      1,
      `stats ${item.name}: ${item.packets} packets, ${item.bytes} bytes, drops kernel ${item.kernelDrops} interface ${item.interfaceDrops}; ipv4 ${p.ipv4} ipv6 ${p.ipv6} tcp ${p.tcp} udp ${p.udp} icmp ${p.icmp} other ${p.other}${talkers === "" ? "" : `; top ${talkers}`}`,
    );
  }
  const upload = report.upload;
  const dropped = Object.entries(upload.chunksDropped)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(", ");
  log.log(
    1,
    `upload: ${upload.chunksSent} chunks (${upload.bytesSent} bytes) sent; not sent: ${dropped || "none"}`,
  );
}

/** The user's BPF (if any) and "not (tcp and host <peer addresses> and port <peer port>)". */
export async function selfExcludingFilter(
  userFilter: string,
  peer: { host: string; port: number },
  resolve: (host: string) => Promise<string[]>,
): Promise<{ expression: string; excluded?: string; problem?: string }> {
  let addresses: string[];
  try {
    addresses = isIP(peer.host) === 0 ? await resolve(peer.host) : [peer.host];
  } catch (error) {
    return { expression: userFilter, problem: causeMessage(error) };
  }
  if (addresses.length === 0) return { expression: userFilter, problem: "no address" };
  const hosts = addresses.map((address) => `host ${address}`).join(" or ");
  const excluded = `not (tcp and (${hosts}) and port ${peer.port})`;
  return { expression: userFilter === "" ? excluded : `(${userFilter}) and ${excluded}`, excluded };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function causeMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
