// Runs the built agent as a real child process inside the lab's agent
// namespace, the way a DaemonSet pod runs it, and collects its output.

import { spawn, type ChildProcess } from "node:child_process";

import path from "node:path";
import { AGENT_BUNDLE_PATH, buildAgentBundle } from "../../src/build.ts";
import type { TestCertificate } from "./collector.ts";
import { COLLECTOR_SERVER_NAME } from "./collector.ts";
import { scratchDir } from "./run.ts";

export const AGENT_BUNDLE = AGENT_BUNDLE_PATH;
export { buildAgentBundle };

export const TEST_KEY = "test-hmac-key-0123456789abcdef";
export const TEST_CLUSTER = "lab";

export function baseEnv(options: {
  collectorHost: string;
  collectorPort: number;
  certificate: TestCertificate;
}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    VSENSOR_HOSTNAME: options.collectorHost,
    VSENSOR_PORT: String(options.collectorPort),
    VSENSOR_HMAC_KEY: TEST_KEY,
    VSENSOR_TLS_CA_FILE: options.certificate.caFile,
    VSENSOR_TLS_SERVER_NAME: COLLECTOR_SERVER_NAME,
    TAPFLEET_CLUSTER_ID: TEST_CLUSTER,
    TAPFLEET_NODE_NAME: "lab-node",
    TAPFLEET_POD_NAME: "lab-pod",
    TAPFLEET_REPORT_INTERVAL: "1",
    OSSENSOR_CONFIG_PATH: path.join(scratchDir("agent-cfg"), "etc", "ossensor.cfg"),
    OSSENSOR_DEBUG: "2",
    ANTIGENA_ENABLED: "false",
  };
}

export interface AgentProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export function startAgent(options: {
  netns?: string;
  env: Record<string, string>;
  /** Options for node before the bundle (V8 flags, as the image's entry point passes them). */
  nodeArgs?: string[];
}): AgentProcess {
  const node = [process.execPath, ...(options.nodeArgs ?? []), AGENT_BUNDLE];
  const command = options.netns === undefined ? node : ["ip", "netns", "exec", options.netns, ...node];
  const child: ChildProcess = spawn(command[0]!, command.slice(1), {
    env: options.env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const collect = (data: Buffer): void => {
    output.push(
      ...data
        .toString("utf8")
        .split("\n")
        .filter((line) => line !== ""),
    );
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code: number | null) => resolve(code)),
  );
  return {
    child,
    output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
