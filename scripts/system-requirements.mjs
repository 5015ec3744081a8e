// What the test suite needs from the operating system. `npm test` installs what
// is missing when it can (root with apt-get) and otherwise stops with one line
// naming what to install — it never skips the tests that need it.
//
// One need is not a system package: the agent's capture binding, the optional
// npm dependency `pcap`. `npm install` drops it when libpcap's headers are
// missing (its native build fails), and `npm rebuild` cannot bring back what
// is not there, so once the headers are in place `npm install` runs again and
// the binding must load before the suite starts.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

const onPath = (command) =>
  spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;

export const REQUIREMENTS = [
  {
    name: "Chromium",
    apt: "chromium",
    present: () => existsSync("/usr/bin/chromium"),
    for: "Playwright end-to-end tests",
  },
  {
    name: "kubectl",
    apt: "kubectl",
    present: () => onPath("kubectl"),
    for: "the Kubernetes simulator tests",
  },
  {
    name: "docker-compose",
    apt: "docker-compose",
    present: () => onPath("docker-compose"),
    for: "validating docker-compose.yml",
  },
  {
    name: "iproute2",
    apt: "iproute2",
    present: () => onPath("ip"),
    for: "network namespaces in capture tests",
  },
  {
    name: "libpcap headers",
    apt: "libpcap-dev",
    present: () => existsSync("/usr/include/pcap/pcap.h"),
    for: "building the agent's capture binding",
  },
  {
    name: "tcpdump",
    apt: "tcpdump",
    present: () => onPath("tcpdump"),
    for: "the agent's capture tests and benchmark",
  },
  {
    name: "tinyproxy",
    apt: "tinyproxy",
    present: () => onPath("tinyproxy"),
    for: "the agent's HTTPS proxy test",
  },
];

/** Whether the agent's capture binding (node_modules/pcap, built against libpcap) loads. */
export function captureBindingLoads({ cwd = root } = {}) {
  return (
    spawnSync(process.execPath, ["-e", "require('pcap/build/Release/pcap_binding.node')"], {
      cwd,
      stdio: "ignore",
    }).status === 0
  );
}

/**
 * Makes the capture binding present once libpcap's headers are: `npm install`
 * again (it installs and builds the optional dependency it dropped), then the
 * binding must load.
 */
export function ensureCaptureBinding({ log = (m) => process.stdout.write(m), cwd = root } = {}) {
  if (captureBindingLoads({ cwd })) return { ok: true };
  log("The agent's capture binding (npm package pcap) is missing: running npm install again to build it\n");
  const install = spawnSync("npm", ["install", "--no-audit", "--no-fund"], { cwd, stdio: "inherit" });
  if (install.status === 0 && captureBindingLoads({ cwd })) return { ok: true };
  return {
    ok: false,
    message:
      install.status === 0
        ? "npm test: the agent's capture binding (npm package pcap) does not load after npm install with libpcap's headers present (see above)"
        : "npm test: npm install, run to build the agent's capture binding (npm package pcap), failed (see above)",
  };
}

export function missingRequirements() {
  return REQUIREMENTS.filter((r) => !r.present());
}

/** Installs what is missing, or returns the one-line message to stop with. */
export function ensureRequirements({ log = (m) => process.stdout.write(m) } = {}) {
  const missing = missingRequirements();
  if (missing.length === 0) return ensureCaptureBinding({ log });
  const packages = missing.map((r) => r.apt);
  const isRoot = process.getuid?.() === 0;
  if (isRoot && onPath("apt-get")) {
    log(`Installing system packages the tests need: ${packages.join(" ")}\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    const install =
      update.status === 0 &&
      spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
        stdio: "inherit",
        env,
      });
    const still = missingRequirements();
    if (!install || install.status !== 0 || still.length > 0)
      return {
        ok: false,
        message: `npm test: could not install ${still.map((r) => r.apt).join(", ")} with apt-get (see above)`,
      };
    return ensureCaptureBinding({ log });
  }
  return {
    ok: false,
    message: `npm test needs ${missing.map((r) => `${r.name} (${r.for})`).join(", ")}: install them with "sudo apt-get install ${packages.join(" ")}"`,
  };
}
