// npm run bench:agent — the highest packet rate the agent captures with
// under 0.1 % loss on a veth pair, next to `tcpdump -w /dev/null` on the same
// traffic in the same run, with the agent's CPU and peak RSS.
//
// Traffic: 60-byte Ethernet frames injected on the sender end of a veth pair
// (bench/frame-flood.ts, libpcap's pcap_inject), to an address and MAC nobody
// owns, so the receiving namespace drops them right after the capture taps.
// Each rate is tried with the agent (running throughout, default settings:
// every packet counted, decoded and forwarded in chunks to an HTTPS collector)
// and then with tcpdump alone. Loss = packets sent − packets captured.
//
//   BENCH_SECONDS=4 BENCH_RATES=25000,50000,100000 npm run bench:agent

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { StatsReport } from "@tapfleet/sensor";
import {
  baseEnv,
  buildAgentBundle,
  startAgent,
  TEST_CLUSTER,
  TEST_KEY,
} from "../test/support/agent-process.ts";
import { createTestCertificate, TestCollector } from "../test/support/collector.ts";
import { createLab } from "../test/support/lab.ts";
import { requireTools, run } from "../test/support/run.ts";

const seconds = Number(process.env.BENCH_SECONDS ?? "4");
const rates = (process.env.BENCH_RATES ?? "25000,50000,75000,100000,150000,200000,300000,400000")
  .split(",")
  .map(Number);
const LOSS_LIMIT = 0.001;
/** The malloc settings of the agent's container image (packages/agent/Dockerfile). */
const IMAGE_MALLOC_ENV = {
  MALLOC_ARENA_MAX: "2",
  MALLOC_MMAP_THRESHOLD_: "131072",
  MALLOC_TRIM_THRESHOLD_: "131072",
};
const generator = fileURLToPath(new URL("./frame-flood.ts", import.meta.url));
const repositoryRoot = path.resolve(path.dirname(generator), "../../..");

function cpuSeconds(pid: number): number {
  // utime + stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match === null ? Number.NaN : Number(match[1]) / 1024;
}

async function flood(ns: string, device: string, rate: number): Promise<{ sent: number; seconds: number }> {
  const output = await run("ip", [
    "netns",
    "exec",
    ns,
    "sh",
    "-c",
    `cd ${repositoryRoot} && exec node --import tsx ${generator} ${device} ${rate} ${seconds}`,
  ]);
  return JSON.parse(output.trim().split("\n").at(-1)!) as { sent: number; seconds: number };
}

interface Trial {
  achieved: number;
  loss: number;
  cpu: number;
}

async function main(): Promise<void> {
  requireTools();
  await run("tcpdump", ["--version"]).catch(() => {
    throw new Error("bench:agent needs tcpdump (apt-get install tcpdump)");
  });
  await buildAgentBundle();
  const certificate = createTestCertificate();
  const lab = await createLab();
  try {
    await lab.addLink("t0", { ipv6: false });
    const collector = new TestCollector({
      host: lab.collectorAddress,
      keyId: TEST_CLUSTER,
      key: TEST_KEY,
      certificate,
      keepChunks: false,
    });
    await collector.start();
    const agent = startAgent({
      netns: lab.agentNs,
      env: {
        ...baseEnv({ collectorHost: lab.collectorAddress, collectorPort: collector.port, certificate }),
        NETWORK_DEVICE_INCLUDELIST: "^t0$",
        OSSENSOR_DEBUG: "0",
        // As the container image sets them (Dockerfile): see docs/benchmarks.md.
        ...IMAGE_MALLOC_ENV,
      },
    });
    const pid = agent.child.pid!;
    const t0 = (report: StatsReport) => report.interfaces.find((item) => item.name === "t0")!;
    await collector.nextReport(() => true, 20_000, "the agent's first report");
    const idleRss =
      Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

    /** Waits until t0's packet count has not moved for two reports. */
    const settled = async (): Promise<StatsReport> => {
      let previous = await collector.nextReport(() => true, 20_000, "a report");
      for (;;) {
        const next = await collector.nextReport(() => true, 20_000, "a report");
        if (t0(next).packets === t0(previous).packets) return next;
        previous = next;
      }
    };

    const agentTrial = async (rate: number): Promise<Trial> => {
      const before = await settled();
      const cpuBefore = cpuSeconds(pid);
      const sent = await flood(lab.senderNs, "p0", rate);
      const after = await settled();
      const captured = t0(after).packets - t0(before).packets;
      return {
        achieved: sent.sent / sent.seconds,
        loss: (sent.sent - captured) / sent.sent,
        cpu: (cpuSeconds(pid) - cpuBefore) / sent.seconds,
      };
    };

    const tcpdumpTrial = async (rate: number): Promise<Trial> => {
      // The same kernel buffer as the agent's (8 MiB), so the comparison is of the user-space side.
      const child = spawn(
        "ip",
        ["netns", "exec", lab.agentNs, "tcpdump", "-i", "t0", "-n", "-B", "8192", "-w", "/dev/null"],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      await new Promise<void>((resolve, reject) => {
        child.stderr.on("data", (data: Buffer) => {
          stderr += data.toString();
          if (stderr.includes("listening on")) resolve();
        });
        child.once("exit", () => reject(new Error(`tcpdump exited: ${stderr}`)));
      });
      const cpuBefore = cpuSeconds(child.pid!);
      const sent = await flood(lab.senderNs, "p0", rate);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const cpu = (cpuSeconds(child.pid!) - cpuBefore) / sent.seconds;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await exited;
      const captured = Number(/(\d+) packets? captured/.exec(stderr)?.[1] ?? Number.NaN);
      return { achieved: sent.sent / sent.seconds, loss: (sent.sent - captured) / sent.sent, cpu };
    };

    // A rate counts for a tool only if the generator really reached it in that tool's trial
    // (≥ 90 % of the target): on a shared machine the generator itself is not steady.
    const rows: string[] = [];
    let agentBest = 0;
    let tcpdumpBest = 0;
    let agentFailed = false;
    let tcpdumpFailed = false;
    const reached = (trial: Trial, rate: number): boolean => trial.achieved >= rate * 0.9;
    for (const rate of rates) {
      if (agentFailed && tcpdumpFailed) break;
      const agentResult = agentFailed ? undefined : await agentTrial(rate);
      const tcpdumpResult = tcpdumpFailed ? undefined : await tcpdumpTrial(rate);
      // Loss counts whatever rate the generator managed (it is loss at that rate); a clean trial
      // counts only if the generator reached the target.
      if (agentResult !== undefined) {
        if (agentResult.loss >= LOSS_LIMIT) agentFailed = true;
        else if (reached(agentResult, rate)) agentBest = Math.max(agentBest, rate);
      }
      if (tcpdumpResult !== undefined) {
        if (tcpdumpResult.loss >= LOSS_LIMIT) tcpdumpFailed = true;
        else if (reached(tcpdumpResult, rate)) tcpdumpBest = Math.max(tcpdumpBest, rate);
      }
      const cell = (trial: Trial | undefined): string =>
        trial === undefined
          ? "— | — | —"
          : `${Math.round(trial.achieved).toLocaleString("en")} | ${(trial.loss * 100).toFixed(3)} % | ${(trial.cpu * 100).toFixed(0)} %`;
      const row = `| ${rate.toLocaleString("en")} | ${cell(agentResult)} | ${cell(tcpdumpResult)} |`;
      rows.push(row);
      process.stderr.write(`${row}\n`);
      // The generator's own ceiling: asking for more only measures it.
      if ([agentResult, tcpdumpResult].every((trial) => trial === undefined || !reached(trial, rate))) break;
    }
    const rss = peakRssMb(pid);
    if (process.env.BENCH_SMAPS === "1") {
      const smaps = readFileSync(`/proc/${pid}/smaps`, "utf8").split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
      const sized = smaps.map((block) => ({
        head: block.split("\n")[0],
        rss: Number(/\nRss:\s+(\d+)/.exec(block)?.[1] ?? 0),
      }));
      for (const item of sized.sort((a, b) => b.rss - a.rss).slice(0, 8)) console.error(item.rss, item.head);
      console.error(
        readFileSync(`/proc/${pid}/status`, "utf8")
          .split("\n")
          .filter((line) => /Rss|VmHWM/.test(line))
          .join("\n"),
      );
    }
    await agent.stop();
    await collector.stop();
    const uptime = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    console.log(
      `\nagent vs tcpdump -w /dev/null, 60-byte frames on a veth pair, ${seconds} s per rate, load average ${uptime}\n`,
    );
    console.log(
      "| target pps | sent pps (agent trial) | agent loss | agent CPU | sent pps (tcpdump trial) | tcpdump loss | tcpdump CPU |",
    );
    console.log("|---|---|---|---|---|---|---|");
    for (const row of rows) console.log(row);
    console.log("");
    const ceiling = !agentFailed && !tcpdumpFailed;
    console.log(
      (agentBest === 0 && !agentFailed) || (tcpdumpBest === 0 && !tcpdumpFailed)
        ? "not enough clean trials: the generator never reached a target rate for one of the two; run again on a quieter machine"
        : ceiling
          ? `highest target rate with under 0.1 % loss: neither lost a packet at any rate the generator reached (agent up to ${agentBest.toLocaleString("en")} pps, tcpdump up to ${tcpdumpBest.toLocaleString("en")} pps; the difference is the generator's); ratio ≥ ${(agentBest / Math.max(agentBest, tcpdumpBest)).toFixed(2)}`
          : `highest target rate with under 0.1 % loss: agent ${agentBest.toLocaleString("en")} pps, tcpdump ${tcpdumpBest.toLocaleString("en")} pps${tcpdumpFailed ? "" : " (tcpdump lost nothing: the generator's ceiling)"}, ratio ${tcpdumpFailed ? "" : "≤ "}${(tcpdumpBest === 0 ? 0 : agentBest / tcpdumpBest).toFixed(2)}`,
    );
    console.log(`agent RSS: ${idleRss.toFixed(0)} MB idle after start, ${rss.toFixed(0)} MB peak`);
  } finally {
    await lab.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
