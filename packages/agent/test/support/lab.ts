// A network lab per test file: an "agent" namespace where the agent runs,
// connected to the root namespace by an uplink veth (the collector and proxy
// listen on its root-side address), and a "sender" namespace joined to the
// agent namespace by veth pairs t0, t1, … (agent side) / p0, p1, … (sender
// side). IPv6 autoconfiguration and ARP are turned off or pinned so that
// the only packets on a link are the ones a test sends: counts can be exact.

import { randomBytes } from "node:crypto";
import { run } from "./run.ts";

export interface Lab {
  id: string;
  agentNs: string;
  senderNs: string;
  /** Root side of the uplink: where the collector listens. */
  collectorAddress: string;
  /** Agent side of the uplink. */
  uplinkAgentAddress: string;
  links: Map<string, LinkAddresses>;
  addLink(name: string, options?: { ipv6?: boolean }): Promise<LinkAddresses>;
  removeLink(name: string): Promise<void>;
  destroy(): Promise<void>;
}

export interface LinkAddresses {
  /** tN in the agent namespace. */
  agentName: string;
  /** pN in the sender namespace. */
  senderName: string;
  agentV4: string;
  senderV4: string;
  agentV6: string;
  senderV6: string;
}

const ip = (...args: string[]): Promise<string> => run("ip", args);
const inNs = (ns: string, ...args: string[]): Promise<string> => run("ip", ["netns", "exec", ns, ...args]);

async function quietNamespace(ns: string): Promise<void> {
  await inNs(ns, "ip", "link", "set", "lo", "up");
  for (const setting of [
    "net.ipv6.conf.all.accept_dad=0",
    "net.ipv6.conf.default.accept_dad=0",
    "net.ipv6.conf.default.accept_ra=0",
    "net.ipv6.conf.default.addr_gen_mode=1",
    "net.ipv4.icmp_ratelimit=0",
    "net.ipv4.icmp_msgs_per_sec=1000000",
    "net.ipv6.icmp.ratelimit=0",
  ]) {
    await inNs(ns, "sysctl", "-q", "-w", setting);
  }
  // Newer kernels only; without it ICMP replies to a fast burst are rate-limited.
  await inNs(ns, "sysctl", "-q", "-w", "net.ipv4.icmp_msgs_burst=1000000").catch(() => "");
}

async function macOf(ns: string, name: string): Promise<string> {
  const text = await inNs(ns, "cat", `/sys/class/net/${name}/address`);
  return text.trim();
}

/** Resolves once the interface's packet counters have not moved for 1.5 s (deadline 20 s). */
async function waitQuiet(ns: string, name: string): Promise<void> {
  const read = async (): Promise<string> =>
    inNs(
      ns,
      "cat",
      `/sys/class/net/${name}/statistics/rx_packets`,
      `/sys/class/net/${name}/statistics/tx_packets`,
    );
  const until = Date.now() + 20_000;
  let last = await read();
  let stableSince = Date.now();
  while (Date.now() - stableSince < 1500) {
    if (Date.now() > until) throw new Error(`${name} in ${ns} did not fall quiet within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await read();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
  }
}

export async function createLab(): Promise<Lab> {
  const id = randomBytes(3).toString("hex");
  // 10.<a>.<b>.0/24 picked at random per lab so parallel test files never collide.
  const a = 100 + (randomBytes(1)[0]! % 100);
  const b = randomBytes(1)[0]!;
  const agentNs = `tf-${id}-a`;
  const senderNs = `tf-${id}-s`;
  const uplinkRoot = `tf${id}u`;
  const links = new Map<string, LinkAddresses>();
  let linkCounter = 0;
  await ip("netns", "add", agentNs);
  await ip("netns", "add", senderNs);
  await quietNamespace(agentNs);
  await quietNamespace(senderNs);
  await ip("link", "add", uplinkRoot, "type", "veth", "peer", "name", "up0", "netns", agentNs);
  const collectorAddress = `10.${a}.${b}.1`;
  const uplinkAgentAddress = `10.${a}.${b}.2`;
  await ip("addr", "add", `${collectorAddress}/30`, "dev", uplinkRoot);
  await ip("link", "set", uplinkRoot, "up");
  await inNs(agentNs, "ip", "addr", "add", `${uplinkAgentAddress}/30`, "dev", "up0");
  await inNs(agentNs, "ip", "link", "set", "up0", "up");

  const lab: Lab = {
    id,
    agentNs,
    senderNs,
    collectorAddress,
    uplinkAgentAddress,
    links,
    async addLink(name, options = {}) {
      const ipv6 = options.ipv6 ?? true;
      const index = Number(name.replace(/^t/, ""));
      const senderName = `p${index}`;
      const subnet = 16 + linkCounter++ * 4;
      const addresses: LinkAddresses = {
        agentName: name,
        senderName,
        agentV4: `10.${a}.${b}.${subnet + 1}`,
        senderV4: `10.${a}.${b}.${subnet + 2}`,
        agentV6: `fd00:${a}:${b}:${index + 1}::1`,
        senderV6: `fd00:${a}:${b}:${index + 1}::2`,
      };
      await inNs(
        agentNs,
        "ip",
        "link",
        "add",
        name,
        "type",
        "veth",
        "peer",
        "name",
        senderName,
        "netns",
        senderNs,
      );
      await inNs(agentNs, "ip", "addr", "add", `${addresses.agentV4}/30`, "dev", name);
      await inNs(senderNs, "ip", "addr", "add", `${addresses.senderV4}/30`, "dev", senderName);
      if (!ipv6) {
        // A link that comes up with IPv6 sends router solicitations and listener reports of its own.
        await inNs(agentNs, "sysctl", "-q", "-w", `net.ipv6.conf.${name}.disable_ipv6=1`);
        await inNs(senderNs, "sysctl", "-q", "-w", `net.ipv6.conf.${senderName}.disable_ipv6=1`);
      } else {
        await inNs(agentNs, "ip", "-6", "addr", "add", `${addresses.agentV6}/64`, "dev", name, "nodad");
        await inNs(
          senderNs,
          "ip",
          "-6",
          "addr",
          "add",
          `${addresses.senderV6}/64`,
          "dev",
          senderName,
          "nodad",
        );
      }
      // Static neighbours: no ARP or neighbour discovery on the wire.
      const agentMac = await macOf(agentNs, name);
      const senderMac = await macOf(senderNs, senderName);
      await inNs(
        agentNs,
        "ip",
        "neigh",
        "replace",
        addresses.senderV4,
        "lladdr",
        senderMac,
        "dev",
        name,
        "nud",
        "permanent",
      );
      await inNs(
        senderNs,
        "ip",
        "neigh",
        "replace",
        addresses.agentV4,
        "lladdr",
        agentMac,
        "dev",
        senderName,
        "nud",
        "permanent",
      );
      if (ipv6) {
        await inNs(
          agentNs,
          "ip",
          "-6",
          "neigh",
          "replace",
          addresses.senderV6,
          "lladdr",
          senderMac,
          "dev",
          name,
          "nud",
          "permanent",
        );
        await inNs(
          senderNs,
          "ip",
          "-6",
          "neigh",
          "replace",
          addresses.agentV6,
          "lladdr",
          agentMac,
          "dev",
          senderName,
          "nud",
          "permanent",
        );
      }
      // IPv6 joins solicited-node groups and reports them (MLD) when the link comes up: make the
      // reports go out at once, then wait for the link to fall quiet, so that tests count only their own packets.
      if (ipv6) {
        for (const [ns, device] of [
          [agentNs, name],
          [senderNs, senderName],
        ] as const) {
          await inNs(ns, "sysctl", "-q", "-w", `net.ipv6.conf.${device}.mldv2_unsolicited_report_interval=1`);
          await inNs(ns, "sysctl", "-q", "-w", `net.ipv6.conf.${device}.mldv1_unsolicited_report_interval=1`);
        }
      }
      await inNs(agentNs, "ip", "link", "set", name, "multicast", "off");
      await inNs(senderNs, "ip", "link", "set", senderName, "multicast", "off");
      await inNs(senderNs, "ip", "link", "set", senderName, "up");
      await inNs(agentNs, "ip", "link", "set", name, "up");
      if (ipv6) await waitQuiet(agentNs, name);
      links.set(name, addresses);
      return addresses;
    },
    async removeLink(name) {
      await inNs(agentNs, "ip", "link", "del", name).catch(() => "");
      links.delete(name);
    },
    async destroy() {
      await ip("link", "del", uplinkRoot).catch(() => "");
      await ip("netns", "del", agentNs).catch(() => "");
      await ip("netns", "del", senderNs).catch(() => "");
    },
  };
  return lab;
}
