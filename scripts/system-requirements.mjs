// What the test suite needs from the operating system. `npm test` installs what
// is missing when it can (root with apt-get) and otherwise stops with one line
// naming what to install — it never skips the tests that need it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

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
    // The binding is built by `npm install`; installed afterwards, it needs a rebuild.
    afterInstall: ["npm", ["rebuild", "pcap"]],
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

export function missingRequirements() {
  return REQUIREMENTS.filter((r) => !r.present());
}

/** Installs what is missing, or returns the one-line message to stop with. */
export function ensureRequirements({ log = (m) => process.stdout.write(m) } = {}) {
  const missing = missingRequirements();
  if (missing.length === 0) return { ok: true };
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
    if (install && install.status === 0 && still.length === 0) {
      for (const requirement of missing) {
        if (!requirement.afterInstall) continue;
        const [command, args] = requirement.afterInstall;
        spawnSync(command, args, { stdio: "inherit" });
      }
      return { ok: true };
    }
    return {
      ok: false,
      message: `npm test: could not install ${still.map((r) => r.apt).join(", ")} with apt-get (see above)`,
    };
  }
  return {
    ok: false,
    message: `npm test needs ${missing.map((r) => `${r.name} (${r.for})`).join(", ")}: install them with "sudo apt-get install ${packages.join(" ")}"`,
  };
}
