// The agent as Kubernetes sees it at start: a bad or missing setting, or no
// way to capture, is one clear line and a non-zero exit (a crash loop, not a
// silent pod, nor one that hangs); the generated config file lands at OSSENSOR_CONFIG_PATH.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { AGENT_BUNDLE, buildAgentBundle, TEST_KEY } from "./support/agent-process.ts";
import { scratchDir } from "./support/run.ts";

beforeAll(async () => {
  await buildAgentBundle();
});

const minimal = (): Record<string, string> => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  VSENSOR_HOSTNAME: "127.0.0.1",
  VSENSOR_HMAC_KEY: TEST_KEY,
  TAPFLEET_CLUSTER_ID: "lab",
  OSSENSOR_CONFIG_PATH: path.join(scratchDir("agent-cli"), "nested", "dir", "ossensor.cfg"),
  ANTIGENA_ENABLED: "false",
});

function runAgent(
  env: Record<string, string>,
  bundle = AGENT_BUNDLE,
): { status: number | null; lines: string[]; stderr: string } {
  const result = spawnSync(process.execPath, [bundle], {
    // Exactly these variables, as a pod would have them (ProcessEnv is declared with NODE_ENV required).
    env: env as NodeJS.ProcessEnv,
    encoding: "utf8",
    timeout: 20_000,
  });
  return {
    status: result.status,
    stderr: result.stderr,
    lines: result.stderr.split("\n").filter((line) => line !== ""),
  };
}

describe("agent start-up", () => {
  it.each([
    [
      "a missing VSENSOR_HOSTNAME",
      { VSENSOR_HOSTNAME: undefined },
      /^tapfleet-agent: invalid settings: VSENSOR_HOSTNAME: is required$/,
    ],
    ["a missing VSENSOR_HMAC_KEY", { VSENSOR_HMAC_KEY: undefined }, /VSENSOR_HMAC_KEY: is required/],
    [
      "two bad values at once",
      { OSSENSOR_DEBUG: "9", VSENSOR_PORT: "http" },
      /VSENSOR_PORT: .*; OSSENSOR_DEBUG: must be between 0 and 5; got 9$/,
    ],
    [
      "a port in VSENSOR_HOSTNAME",
      { VSENSOR_HOSTNAME: "10.0.0.1:8443" },
      /VSENSOR_HOSTNAME: "10.0.0.1:8443" contains a port; put the port in VSENSOR_PORT/,
    ],
    [
      "a missing TAPFLEET_CLUSTER_ID",
      { TAPFLEET_CLUSTER_ID: undefined },
      /TAPFLEET_CLUSTER_ID: is required by tapfleet-agent/,
    ],
    [
      "a TLS CA file that does not exist (the contract accepts the path; the node has no such file)",
      { VSENSOR_TLS_CA_FILE: "/nonexistent/tapfleet-ca.pem" },
      /^tapfleet-agent: cannot read the TLS CA file \/nonexistent\/tapfleet-ca\.pem \(VSENSOR_TLS_CA_FILE\): ENOENT/,
    ],
  ])("exits 2 with one line on %s", (_, change, message) => {
    const env: Record<string, string> = minimal();
    for (const [key, value] of Object.entries(change)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    const result = runAgent(env);
    expect(result.status).toBe(2);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(message);
    expect(result.stderr).not.toContain(TEST_KEY);
  });

  it("writes the generated config file at OSSENSOR_CONFIG_PATH, creating its directories, without the key", () => {
    const env: Record<string, string> = {
      ...minimal(),
      OSSENSOR_NETWORK_DEVICE: "tfnone0",
      OSSENSOR_DEBUG: "3",
    };
    const configPath = env.OSSENSOR_CONFIG_PATH!;
    const result = runAgent(env);
    // No such interface: one line and a crash loop, after the config file is written.
    expect(result.status).toBe(1);
    expect(result.lines.filter((line) => line.startsWith("tapfleet-agent:"))).toEqual([
      "tapfleet-agent: no interface to capture on (check OSSENSOR_NETWORK_DEVICE and NETWORK_DEVICE_INCLUDELIST/EXCLUDELIST, or set NETWORK_DEVICE_ANY=1 to wait for one)",
    ]);
    const text = readFileSync(configPath, "utf8");
    expect(text).toContain("VSENSOR_HOSTNAME=127.0.0.1\n");
    expect(text).toContain("VSENSOR_HMAC_KEY=<redacted>\n");
    expect(text).toContain("OSSENSOR_NETWORK_DEVICE=tfnone0\n");
    expect(text).toContain("OSSENSOR_DEBUG=3\n");
    expect(text).toContain("TAPFLEET_REPORT_INTERVAL=10\n");
    expect(text).toMatch(/TAPFLEET_CONFIG_HASH=[0-9a-f]{64}\n/);
    expect(text).not.toContain(TEST_KEY);
  });

  it("says in one line why it cannot capture when the optional pcap binding is missing, and exits 3", () => {
    // A copy of the bundle where no node_modules can be found: what an install without libpcap's headers leaves.
    const directory = scratchDir("agent-nopcap");
    const bundle = path.join(directory, "tapfleet-agent.mjs");
    copyFileSync(AGENT_BUNDLE, bundle);
    const env = minimal();
    const result = runAgent(env, bundle);
    expect(result.status).toBe(3);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(
      /^tapfleet-agent: cannot capture: the libpcap binding \(optional npm package "pcap"\) is not available \(.*\); install libpcap \(Debian: apt-get install libpcap-dev\)/,
    );
    expect(existsSync(env.OSSENSOR_CONFIG_PATH!)).toBe(true);
  });
});
