// The agent's life: read settings, write the config file, choose interfaces,
// capture on each, count, forward chunks, report every interval, and on
// SIGTERM flush what it can and exit. The parts live in their own modules
// (capture-supervisor.ts, chunk-uploads.ts, reporter.ts); this one wires
// them. Side effects (clock, timers, interface listing, the capture binding,
// the collector client) come in through options so that tests can drive
// each part without mocking modules.

// The contract's modules by subpath: the agent needs neither the manifests
// nor the import code, and the YAML library they load costs memory.
import { agentStatusFilePath } from "@tapfleet/sensor/health";
import type { AgentIdentity } from "@tapfleet/sensor/protocol";
import type { SensorEnv } from "@tapfleet/sensor/settings";
import { lookup } from "node:dns/promises";
import { AGENT_VERSION, loadAgentSettings, type AgentSettings } from "./agent-settings.ts";
import { DEFAULT_TUNING, type AgentTuning } from "./agent-tuning.ts";
import { captureThreadSnapshotSource } from "./antigena/libpcap-source.ts";
import { AntigenaPoller } from "./antigena/poller.ts";
import { loadCapture, type CaptureEvents, type LoadCaptureResult } from "./capture.ts";
import { captureReplayFromEnv } from "./capture-replay.ts";
import { CaptureSupervisor } from "./capture-supervisor.ts";
import { causeMessage } from "./cause-message.ts";
import { createChunkUploader } from "./chunk-uploads.ts";
import { createCollectorClient, type CollectorClient } from "./collector-client.ts";
import { renderConfigFile, writeConfigFile } from "./config-file.ts";
import { sysfsInterfaceLister, type ListInterfaces } from "./interfaces.ts";
import { createLogger, type LogLevel } from "./logger.ts";
import { Reporter } from "./reporter.ts";
import { selfExcludingFilter } from "./self-filter.ts";
import { AgentStatusFile } from "./status-file.ts";

export { DEFAULT_TUNING, type AgentTuning };

/** Exit codes: meaningful to whoever reads `kubectl get pods` and the CLI. */
export const EXIT = { ok: 0, failed: 1, badSettings: 2, cannotCapture: 3 } as const;

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
  // The status file (the readiness probe's input) sits beside the config file, found the way the probe finds it.
  const statusPath = agentStatusFilePath(options.env.OSSENSOR_CONFIG_PATH);
  // A file from the container's previous run must not vouch for this one while it starts.
  await AgentStatusFile.removeStale(statusPath);

  const replayOption = captureReplayFromEnv(options.env);
  if (!replayOption.ok) {
    writeError(`tapfleet-agent: ${replayOption.line}\n`);
    return EXIT.badSettings;
  }
  const replay = replayOption.replay;
  const loaded = loadAgentSettings(replayOption.settingsEnv);
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
  // land in the capture supervisor, set up below once the filter is known
  // (no session opens, and so no event comes, before it is).
  let stopRequested: (() => void) | undefined;
  let exitCode: number = EXIT.ok;
  const loadedCapture = await (options.loadCapture ?? loadCapture)({
    onChunk: (chunk) => captures.chunkCaptured(chunk),
    onStopped: (device, error, stats) => captures.captureStopped(device, error, stats),
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
  const capture = replay === undefined ? loadedCapture.capture : replay.wrap(loadedCapture.capture);
  log.log(0, `capturing with ${capture.libraryVersion}`);

  let client: CollectorClient;
  try {
    client = (
      options.createClient ?? ((a: AgentSettings) => createCollectorClient({ settings: a.resolved, now }))
    )(agent);
  } catch (error) {
    // A setting the contract accepts but this node cannot honour (a CA file that is not there):
    // one line and an exit, so Kubernetes shows a crash with the reason, not a pod that never gets Ready.
    await capture.terminate();
    writeError(`tapfleet-agent: ${causeMessage(error)}\n`);
    return EXIT.badSettings;
  }
  log.log(0, `collector ${client.origin}${client.proxy === undefined ? "" : ` via proxy ${client.proxy}`}`);

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

  const forwarder = createChunkUploader({
    client,
    identity,
    settings,
    maxQueuedChunks: tuning.maxQueuedChunks,
    now,
    log,
  });
  const captures = new CaptureSupervisor({
    capture,
    settings,
    filter: captureFilter.expression,
    tuning,
    listInterfaces: options.listInterfaces ?? replay?.listInterfaces ?? sysfsInterfaceLister(),
    log,
    onChunk: (chunk) => forwarder.submit(chunk),
  });

  await captures.reconcile();
  if (captures.fatal !== undefined) {
    await captures.closeAll("stopping");
    await capture.terminate();
    writeError(`tapfleet-agent: ${captures.fatal}\n`);
    await client.close();
    return EXIT.badSettings;
  }
  if (captures.selectedAtStart === 0 && !settings.captureNewDevices) {
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
          capturedInterfaces: () => captures.capturedInterfaces(),
          baseFilter: captureFilter.expression,
          snapLength: tuning.snapLength,
          captureTimeoutMs: tuning.captureTimeoutMs,
        },
      })
    : undefined;

  const status = new AgentStatusFile({
    path: statusPath,
    startedAt,
    reportIntervalSeconds: settings.reportIntervalSeconds,
    now,
    onWriteError: (message) => log.log(0, message),
  });
  const refreshStatus = (): void => {
    const health = captures.interfaceHealth();
    status.interfaces(health.open, health.closed);
  };
  refreshStatus();

  const reporter = new Reporter({
    client,
    identity,
    configHash: agent.configHash,
    reportIntervalSeconds: settings.reportIntervalSeconds,
    tuning,
    now,
    random: options.random,
    log,
    flushCapture: () => capture.flush(),
    takeInterfaceStats: () => captures.takeInterfaceStats(),
    nodeInterfaces: () => captures.presentInterfaces(),
    uploadStats: () => forwarder.stats,
    antigena,
    onDelivery: (delivery) => status.reportDelivered(delivery),
  });

  // ---------------------------------------------------------------------------
  // Run until stopped

  const pollHandle = timers.setInterval(() => {
    // What the last poll found (a poll's reconcile runs on after this returns).
    refreshStatus();
    captures.poll();
  }, tuning.interfacePollMs);
  const flushHandle = timers.setInterval(() => void capture.flush(), tuning.chunkFlushMs);
  const reportHandle = timers.setInterval(
    () => void reporter.report(),
    settings.reportIntervalSeconds * 1000,
  );
  antigena?.start();
  // A first report at once: the collector's answer is what makes the pod Ready, and waiting a whole interval (up to an hour) for it would hold up every rolling update.
  void reporter.report();

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
  await captures.closeAll("stopping");
  await reporter.report();
  await capture.terminate();
  await Promise.race([
    forwarder.idle(),
    new Promise((resolve) => setTimeout(resolve, tuning.shutdownFlushMs)),
  ]);
  const unsent = await reporter.flush(tuning.shutdownFlushMs);
  if (unsent > 0) log.log(0, `${unsent} report(s) could not be delivered before exit`);
  await client.close().catch(() => undefined);
  await status.remove();
  log.log(0, "stopped");
  return exitCode;
}
