import { describe, expect, it } from "vitest";
import {
  agentStatusFilePath,
  judgeAgentReadiness,
  parseAgentStatus,
  SILENT_AFTER_REPORT_INTERVALS,
  type AgentStatus,
} from "./health.ts";

const T0 = Date.UTC(2026, 0, 1);
const s = (seconds: number): number => T0 + seconds * 1000;

const capturing: AgentStatus = {
  version: 1,
  startedAt: T0,
  reportIntervalSeconds: 10,
  openInterfaces: ["eth0"],
  closedInterfaces: [],
};

describe("judgeAgentReadiness", () => {
  it.each<[string, Partial<AgentStatus>, number, string | true]>([
    ["no report yet", {}, 4, "no report accepted yet (started 4 s ago, interval 10 s)"],
    [
      "no report yet, the collector unreachable",
      { lastSendError: { at: s(1), message: "connect ECONNREFUSED 10.0.0.9:443" } },
      2,
      "no report accepted yet (started 2 s ago, interval 10 s): connect ECONNREFUSED 10.0.0.9:443",
    ],
    ["accepted 3 s ago", { lastReportAcceptedAt: s(1) }, 4, true],
    ["accepted just under three intervals ago", { lastReportAcceptedAt: s(1) }, 30.9, true],
    [
      "accepted exactly three intervals ago",
      { lastReportAcceptedAt: s(1) },
      31,
      "last report accepted 30 s ago (interval 10 s)",
    ],
    [
      "accepted long ago, sending fails since",
      { lastReportAcceptedAt: s(0), lastSendError: { at: s(40), message: "socket hang up" } },
      47,
      "last report accepted 47 s ago (interval 10 s): socket hang up",
    ],
    [
      "a send error older than the last acceptance is not mentioned",
      { lastReportAcceptedAt: s(5), lastSendError: { at: s(1), message: "socket hang up" } },
      6,
      true,
    ],
    [
      "refused after the last acceptance",
      { lastReportAcceptedAt: s(1), lastReportRefused: { at: s(2), status: 401, message: "bad signature" } },
      3,
      "collector refused the last report: 401 bad signature",
    ],
    [
      "refused before the last acceptance",
      { lastReportAcceptedAt: s(3), lastReportRefused: { at: s(2), status: 401, message: "bad signature" } },
      4,
      true,
    ],
    [
      "no interface open",
      {
        openInterfaces: [],
        closedInterfaces: [{ name: "eth0", reason: "down" }],
        lastReportAcceptedAt: s(1),
      },
      2,
      "no interface open: eth0 down",
    ],
    [
      "nothing selected",
      { openInterfaces: [], lastReportAcceptedAt: s(1) },
      2,
      "no interface open: none selected",
    ],
  ])("%s", (_name, change, nowSeconds, expected) => {
    const verdict = judgeAgentReadiness({ status: { ...capturing, ...change }, now: s(nowSeconds) });
    if (expected === true) expect(verdict).toMatchObject({ ready: true });
    else expect(verdict).toEqual({ ready: false, reason: expected });
  });

  it("uses the server's silent rule: three intervals", () => {
    expect(SILENT_AFTER_REPORT_INTERVALS).toBe(3);
  });

  it("says what is captured when ready", () => {
    expect(
      judgeAgentReadiness({
        status: { ...capturing, openInterfaces: ["eth0", "eth1"], lastReportAcceptedAt: s(1) },
        now: s(4),
      }),
    ).toEqual({ ready: true, summary: "capturing on eth0, eth1; last report accepted 3 s ago" });
  });
});

describe("agentStatusFilePath", () => {
  it.each([
    [undefined, "/etc/tapfleet/agent-status.json"],
    ["", "/etc/tapfleet/agent-status.json"],
    ["/var/run/tapfleet/my.cfg", "/var/run/tapfleet/agent-status.json"],
    ["/ossensor.cfg", "/agent-status.json"],
  ])("%s → %s", (configPath, expected) => {
    expect(agentStatusFilePath(configPath)).toBe(expected);
  });
});

describe("parseAgentStatus", () => {
  it("reads what the agent writes", () => {
    const status: AgentStatus = {
      ...capturing,
      lastReportAcceptedAt: s(1),
      lastReportRefused: { at: s(0), status: 429, message: "slow down" },
      lastSendError: { at: s(0), message: "x" },
    };
    expect(parseAgentStatus(JSON.stringify(status))).toEqual({ ok: true, status });
  });

  it.each([
    ["", /^not JSON/],
    ["[]", /^not a version 1 status$/],
    [JSON.stringify({ ...capturing, version: 2 }), /^not a version 1 status$/],
    [
      JSON.stringify({ ...capturing, openInterfaces: "eth0", reportIntervalSeconds: 0 }),
      /^invalid reportIntervalSeconds, openInterfaces$/,
    ],
    [JSON.stringify({ ...capturing, lastReportRefused: { at: 1 } }), /^invalid lastReportRefused$/],
  ])("refuses %j", (text, problem) => {
    const parsed = parseAgentStatus(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});
