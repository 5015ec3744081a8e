// `tapfleet-agent probe`, the DaemonSet's readiness probe, as the kubelet runs
// it: a separate process, through the package's bin, reading the status file
// of a real agent that captures in the lab and reports to the test collector.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { agentStatusFilePath } from "@tapfleet/sensor/health";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import {
  baseEnv,
  buildAgentBundle,
  startAgent,
  TEST_CLUSTER,
  TEST_KEY,
  type AgentProcess,
} from "./support/agent-process.ts";
import { createTestCertificate, TestCollector, type TestCertificate } from "./support/collector.ts";
import { createLab, type Lab } from "./support/lab.ts";
import { requireTools, run } from "./support/run.ts";

const LAUNCHER = fileURLToPath(new URL("../bin/tapfleet-agent.mjs", import.meta.url));

let lab: Lab;
let certificate: TestCertificate;
let collector: TestCollector;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  requireTools();
  await buildAgentBundle();
  certificate = createTestCertificate();
  lab = await createLab();
  await lab.addLink("t0", { ipv6: false });
  collector = new TestCollector({
    host: lab.collectorAddress,
    keyId: TEST_CLUSTER,
    key: TEST_KEY,
    certificate,
  });
  await collector.start();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await collector?.stop();
  await lab?.destroy();
});

function launch(env: Record<string, string>): { agent: AgentProcess; env: Record<string, string> } {
  const fullEnv = {
    ...baseEnv({ collectorHost: lab.collectorAddress, collectorPort: collector.port, certificate }),
    NETWORK_DEVICE_INCLUDELIST: "^t0$",
    ...env,
  };
  const agent = startAgent({ netns: lab.agentNs, env: fullEnv });
  cleanups.push(() => agent.stop());
  return { agent, env: fullEnv };
}

/** Runs the probe as the kubelet would: the bin with the container's environment; its exit code and output. */
function probe(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LAUNCHER, "probe"], {
      env: env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (data: Buffer) => (output += data.toString()));
    child.stderr.on("data", (data: Buffer) => (output += data.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, output }));
  });
}

describe("tapfleet-agent probe", () => {
  it("is ready once the collector accepted a report, and says why not once the interface is down or the agent stopped", async () => {
    // A long interval: readiness within seconds shows that the first report goes out at once.
    const { agent, env } = launch({ TAPFLEET_REPORT_INTERVAL: "600" });
    await waitFor(() => probe(env).then((result) => (result.code === 0 ? result : undefined)), {
      what: "the probe to pass",
      timeoutMs: 10_000,
    }).then((result) =>
      expect(result.output).toMatch(/^ready: capturing on t0; last report accepted \d+ s ago\n$/),
    );

    await run("ip", ["netns", "exec", lab.agentNs, "ip", "link", "set", "t0", "down"]);
    const down = await waitFor(() => probe(env).then((result) => (result.code === 1 ? result : undefined)), {
      what: "the probe to fail with t0 down",
      timeoutMs: 10_000,
    });
    expect(down.output).toBe("not ready: no interface open: t0 down\n");
    await run("ip", ["netns", "exec", lab.agentNs, "ip", "link", "set", "t0", "up"]);

    expect(await agent.stop()).toBe(0);
    expect(existsSync(agentStatusFilePath(env.OSSENSOR_CONFIG_PATH))).toBe(false);
    expect(await probe(env)).toEqual({
      code: 1,
      output: `not ready: no status file at ${path.join(path.dirname(env.OSSENSOR_CONFIG_PATH!), "agent-status.json")}: the agent is not capturing (yet)\n`,
    });
  });

  it("fails with the collector's words while the collector refuses the reports", async () => {
    const { env } = launch({ VSENSOR_HMAC_KEY: "not-the-collectors-key-0123456789" });
    const refused = await waitFor(
      () => probe(env).then((result) => (/refused/.test(result.output) ? result : undefined)),
      { what: "the probe to report the refusal", timeoutMs: 10_000 },
    );
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/^not ready: collector refused the last report: 401 .*signature.*\n$/);
  });

  it("fails while no selected interface exists", async () => {
    const { env } = launch({
      NETWORK_DEVICE_INCLUDELIST: "",
      OSSENSOR_NETWORK_DEVICE: "nosuch0",
      NETWORK_DEVICE_ANY: "1",
    });
    const missing = await waitFor(
      () => probe(env).then((result) => (/interface/.test(result.output) ? result : undefined)),
      { what: "the probe to name the missing interface", timeoutMs: 10_000 },
    );
    expect(missing).toEqual({ code: 1, output: "not ready: no interface open: nosuch0 not present\n" });
  });
});
