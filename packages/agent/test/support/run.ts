// Running commands for the tests, with output captured and a clear error.
import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * A fresh directory for one test's files (certificates, config files, proxy
 * logs), under the run's scratch root (scripts/test-scratch.ts), which is
 * removed when the run ends, so test runs leave nothing behind in /tmp.
 */
export function scratchDir(prefix: string): string {
  const root = process.env.TAPFLEET_TEST_SCRATCH ?? os.tmpdir();
  mkdirSync(root, { recursive: true });
  return mkdtempSync(path.join(root, `${prefix}-`));
}

export function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: "utf8" }, (error, stdout, stderr) => {
      if (error !== null)
        reject(new Error(`${command} ${args.join(" ")}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Fails with one line naming what to install, rather than skipping: a skipped capture test proves nothing. */
export function requireTools(): void {
  const missing: string[] = [];
  const has = (command: string, args: string[]): boolean =>
    spawnSync(command, args, { stdio: "ignore" }).status === 0;
  if (!has("ip", ["netns", "list"]))
    missing.push("iproute2 with network namespaces (apt-get install iproute2; run as root)");
  if (!has("openssl", ["version"])) missing.push("openssl (apt-get install openssl)");
  if (!has("tinyproxy", ["-v"])) missing.push("tinyproxy (apt-get install tinyproxy)");
  if (!has("node", ["-e", "require('pcap/build/Release/pcap_binding.node')"]))
    missing.push(
      "the pcap npm binding, which needs libpcap (apt-get install libpcap-dev, then npm install to build it)",
    );
  if (process.getuid?.() !== 0) missing.push("root (capture and ip netns need it)");
  if (missing.length > 0) throw new Error(`agent capture tests need: ${missing.join("; ")}`);
}
