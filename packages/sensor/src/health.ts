// The agent's health as Kubernetes sees it: the status file the agent keeps
// next to its generated config file, and the one rule that says whether an
// agent is ready — at least one interface captured, and its last report
// accepted by the collector no longer ago than the server's "silent" rule
// allows. `tapfleet-agent probe` (the DaemonSet's exec readiness probe) applies
// it to the file; the server's silent badge uses the same number of intervals.
//
// Kept free of zod and of ./settings.ts: the probe runs every few seconds on
// every node, and loading the settings' schemas would cost it more than its
// whole work. Browser-safe (no node: imports).

/** Where the agent writes its generated config file unless OSSENSOR_CONFIG_PATH says otherwise. */
export const DEFAULT_CONFIG_PATH = "/etc/tapfleet/ossensor.cfg";

/** A sensor is silent, and its agent not ready, once this many report intervals pass without an accepted report. */
export const SILENT_AFTER_REPORT_INTERVALS = 3;

/** The status file's name, in the directory of the config file (a writable emptyDir in the DaemonSet). */
export const AGENT_STATUS_FILE_NAME = "agent-status.json";

/** The status file for a config path (OSSENSOR_CONFIG_PATH, or the default when unset or empty). */
export function agentStatusFilePath(configPath: string | undefined): string {
  const path = configPath === undefined || configPath === "" ? DEFAULT_CONFIG_PATH : configPath;
  const directory = path.slice(0, path.lastIndexOf("/")) || "";
  return `${directory}/${AGENT_STATUS_FILE_NAME}`;
}

/** What the agent writes to its status file (times in ms since the epoch). */
export interface AgentStatus {
  version: 1;
  startedAt: number;
  reportIntervalSeconds: number;
  /** Interfaces with an open capture session. */
  openInterfaces: string[];
  /** Selected interfaces without one, and why ("down", "not present", "cannot capture: …"). */
  closedInterfaces: Array<{ name: string; reason: string }>;
  /** When the collector last accepted a report. */
  lastReportAcceptedAt?: number;
  /** The collector's refusal of a report after the last accepted one (HTTP status and its words). */
  lastReportRefused?: { at: number; status: number; message: string };
  /** Why the last attempt to send a report failed without an answer (network, TLS, proxy). */
  lastSendError?: { at: number; message: string };
}

export type AgentReadiness = { ready: true; summary: string } | { ready: false; reason: string };

const seconds = (ms: number): number => Math.max(0, Math.round(ms / 1000));

/**
 * Whether the agent is ready, and if not, why in one line. Ready means: at
 * least one interface is captured, the collector has not refused a report
 * since it last accepted one, and it accepted one less than
 * SILENT_AFTER_REPORT_INTERVALS report intervals ago.
 */
export function judgeAgentReadiness(options: { status: AgentStatus; now: number }): AgentReadiness {
  const { status, now } = options;
  const interval = status.reportIntervalSeconds;
  if (status.openInterfaces.length === 0) {
    const closed = status.closedInterfaces.map((item) => `${item.name} ${item.reason}`).join(", ");
    return { ready: false, reason: `no interface open: ${closed || "none selected"}` };
  }
  const accepted = status.lastReportAcceptedAt;
  const refused = status.lastReportRefused;
  if (refused !== undefined && (accepted === undefined || refused.at >= accepted))
    return {
      ready: false,
      reason: `collector refused the last report: ${refused.status} ${refused.message}`.trimEnd(),
    };
  const sendError =
    status.lastSendError !== undefined && (accepted === undefined || status.lastSendError.at >= accepted)
      ? `: ${status.lastSendError.message}`
      : "";
  if (accepted === undefined)
    return {
      ready: false,
      reason: `no report accepted yet (started ${seconds(now - status.startedAt)} s ago, interval ${interval} s)${sendError}`,
    };
  if (now - accepted >= SILENT_AFTER_REPORT_INTERVALS * interval * 1000)
    return {
      ready: false,
      reason: `last report accepted ${seconds(now - accepted)} s ago (interval ${interval} s)${sendError}`,
    };
  return {
    ready: true,
    summary: `capturing on ${status.openInterfaces.join(", ")}; last report accepted ${seconds(now - accepted)} s ago`,
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isTime = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/**
 * Reads a status file's text; a problem in one line when it is not one the
 * agent wrote. Checked by hand rather than with a zod schema for the probe's
 * start-up time (see the top of this file).
 */
export function parseAgentStatus(
  text: string,
): { ok: true; status: AgentStatus } | { ok: false; problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON (${(error as Error).message})` };
  }
  if (!isObject(value) || value.version !== 1) return { ok: false, problem: "not a version 1 status" };
  const problems: string[] = [];
  if (!isTime(value.startedAt)) problems.push("startedAt");
  if (!isTime(value.reportIntervalSeconds) || value.reportIntervalSeconds <= 0)
    problems.push("reportIntervalSeconds");
  if (!Array.isArray(value.openInterfaces) || !value.openInterfaces.every((n) => typeof n === "string"))
    problems.push("openInterfaces");
  if (
    !Array.isArray(value.closedInterfaces) ||
    !value.closedInterfaces.every(
      (item) => isObject(item) && typeof item.name === "string" && typeof item.reason === "string",
    )
  )
    problems.push("closedInterfaces");
  if (value.lastReportAcceptedAt !== undefined && !isTime(value.lastReportAcceptedAt))
    problems.push("lastReportAcceptedAt");
  const refused = value.lastReportRefused;
  if (
    refused !== undefined &&
    !(
      isObject(refused) &&
      isTime(refused.at) &&
      isTime(refused.status) &&
      typeof refused.message === "string"
    )
  )
    problems.push("lastReportRefused");
  const sendError = value.lastSendError;
  if (
    sendError !== undefined &&
    !(isObject(sendError) && isTime(sendError.at) && typeof sendError.message === "string")
  )
    problems.push("lastSendError");
  if (problems.length > 0) return { ok: false, problem: `invalid ${problems.join(", ")}` };
  return { ok: true, status: value as unknown as AgentStatus };
}
