// `tapfleet-agent probe`: the DaemonSet's exec readiness probe. It reads the
// status file the running agent keeps (status-file.ts) and applies the sensor
// contract's readiness rule to it: exit 0 when ready, 1 with one line saying
// why not (the kubelet puts that line in the pod's "Readiness probe failed"
// event). An exec probe works under hostNetwork, where a port would have to
// be free on every node. It loads neither libpcap nor the agent: it runs every
// few seconds on every node.

import { readFile } from "node:fs/promises";
import { agentStatusFilePath, judgeAgentReadiness, parseAgentStatus } from "@tapfleet/sensor/health";

export const PROBE_EXIT = { ready: 0, notReady: 1 } as const;

export interface RunProbeOptions {
  env: Readonly<Record<string, string | undefined>>;
  now?: () => number;
  write?: (line: string) => void;
}

/** Resolves to the probe's exit code, having written its one line. */
export async function runProbe(options: RunProbeOptions): Promise<number> {
  const now = options.now ?? Date.now;
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const statusPath = agentStatusFilePath(options.env.OSSENSOR_CONFIG_PATH);
  let text: string;
  try {
    text = await readFile(statusPath, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    write(
      code === "ENOENT"
        ? `not ready: no status file at ${statusPath}: the agent is not capturing (yet)\n`
        : `not ready: cannot read the status file ${statusPath}: ${(error as Error).message}\n`,
    );
    return PROBE_EXIT.notReady;
  }
  const parsed = parseAgentStatus(text);
  if (!parsed.ok) {
    write(`not ready: the status file ${statusPath} is not the agent's: ${parsed.problem}\n`);
    return PROBE_EXIT.notReady;
  }
  const verdict = judgeAgentReadiness({ status: parsed.status, now: now() });
  if (verdict.ready) {
    write(`ready: ${verdict.summary}\n`);
    return PROBE_EXIT.ready;
  }
  write(`not ready: ${verdict.reason}\n`);
  return PROBE_EXIT.notReady;
}
