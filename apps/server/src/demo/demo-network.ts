// Real traffic for the demo's nodes when it runs as root. Each node is a
// network namespace of its own (tfdemo-<cluster>-<node>) holding `lo` and
// `eth0`, the node's end of a veth pair; the host's ends (tfd<c>n<n>) are
// ports of one bridge (tfdemo-br, 10.213.0.1/16), and each eth0 has
// 10.213.<cluster>.<node + 1>/16. The node's agent runs inside the namespace,
// as an agent with hostNetwork runs in its node's, so it sees and captures only
// that node's interfaces and reaches the demo's collector at the bridge's
// address. The server sends traffic into each namespace from the bridge's
// address (UDP and TCP, answered with ICMP and resets); nothing of it crosses
// the host's loopback, where the server and its database talk.

import { execFile } from "node:child_process";
import dgram from "node:dgram";
import net from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);
export const DEMO_NETNS_PREFIX = "tfdemo-";
/** The bridge joining the nodes' veth pairs, and the host's address on it (where the agents report). */
export const DEMO_BRIDGE = { name: "tfdemo-br", address: "10.213.0.1", prefixLength: 16 } as const;
/** The interface name a node's agent sees, like a node's NIC. */
export const DEMO_NODE_INTERFACE = "eth0";
/** Host-side veth ends (`tfd1n2`) and, before it moves into its namespace, the node's end (`tfd1n2p`). */
const DEMO_LINK_NAME = /^tfd\d+n\d+p?$/;

export interface DemoLink {
  netns: string;
  /** The host's end of the node's veth pair, a port of the demo bridge. */
  hostInterface: string;
  /** The node's address on its eth0. */
  namespaceAddress: string;
}

/** Namespace, host interface and address of node `node` (1-based) of demo cluster `cluster` (1-based). */
export function demoLinkFor(cluster: number, node: number): DemoLink {
  return {
    netns: `${DEMO_NETNS_PREFIX}${cluster}-${node}`,
    hostInterface: `tfd${cluster}n${node}`,
    namespaceAddress: `10.213.${cluster}.${node + 1}`,
  };
}

const ip = async (...args: string[]): Promise<void> => {
  try {
    await run("ip", args);
  } catch (error) {
    throw new Error(`ip ${args.join(" ")}`, { cause: error });
  }
};

/** The bridge with the host's address on it; made again if a killed demo left one. */
export async function createDemoBridge(): Promise<void> {
  await run("ip", ["link", "del", DEMO_BRIDGE.name]).catch(() => undefined);
  await ip("link", "add", DEMO_BRIDGE.name, "type", "bridge");
  await ip("addr", "add", `${DEMO_BRIDGE.address}/${DEMO_BRIDGE.prefixLength}`, "dev", DEMO_BRIDGE.name);
  await ip("link", "set", DEMO_BRIDGE.name, "up");
}

/** The node's namespace, with lo and eth0 up, eth0's peer on the bridge. */
export async function createDemoLink(link: DemoLink): Promise<void> {
  const peer = `${link.hostInterface}p`;
  await run("ip", ["netns", "del", link.netns]).catch(() => undefined);
  await run("ip", ["link", "del", link.hostInterface]).catch(() => undefined);
  await ip("netns", "add", link.netns);
  await ip("link", "add", link.hostInterface, "type", "veth", "peer", "name", peer);
  await ip("link", "set", peer, "netns", link.netns);
  await ip("-n", link.netns, "link", "set", peer, "name", DEMO_NODE_INTERFACE);
  await ip("link", "set", link.hostInterface, "master", DEMO_BRIDGE.name);
  await ip("link", "set", link.hostInterface, "up");
  await ip(
    "-n",
    link.netns,
    "addr",
    "add",
    `${link.namespaceAddress}/${DEMO_BRIDGE.prefixLength}`,
    "dev",
    DEMO_NODE_INTERFACE,
  );
  await ip("-n", link.netns, "link", "set", DEMO_NODE_INTERFACE, "up");
  await ip("-n", link.netns, "link", "set", "lo", "up");
}

/** Every demo namespace that exists, whoever made it (a demo that was killed leaves them behind). */
export async function listDemoNamespaces(): Promise<string[]> {
  const { stdout } = await run("ip", ["netns", "list"]);
  return stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(DEMO_NETNS_PREFIX));
}

/** The demo's links in the host's namespace: its bridge and veth ends, whoever made them. */
export async function listDemoLinks(): Promise<string[]> {
  const { stdout } = await run("ip", ["-o", "link", "show"]);
  return stdout
    .split("\n")
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? "")
    .filter((name) => name === DEMO_BRIDGE.name || DEMO_LINK_NAME.test(name));
}

/**
 * Removes every demo namespace (which takes its veth pair with it), then any
 * demo link still there and the bridge: what this run made and what a killed
 * one left. Nothing to do when they are gone.
 */
export async function removeDemoNetwork(): Promise<void> {
  for (const netns of await listDemoNamespaces())
    await run("ip", ["netns", "del", netns]).catch(() => undefined);
  for (const link of await listDemoLinks()) await run("ip", ["link", "del", link]).catch(() => undefined);
}

/**
 * A small generator: every 200 ms a UDP datagram of varying size to each
 * namespace (answered with ICMP port unreachable) and now and then a TCP
 * connection attempt (answered with a reset), all from the bridge's address.
 * Stops with the returned function.
 */
export function startDemoTraffic(links: readonly DemoLink[]): () => void {
  const socket = dgram.createSocket("udp4");
  socket.on("error", () => undefined);
  socket.bind({ address: DEMO_BRIDGE.address, port: 0 });
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    for (const [index, link] of links.entries()) {
      const size = 64 + ((tick * 37 + index * 101) % 900);
      socket.send(Buffer.alloc(size, tick % 256), 5000 + (tick % 16), link.namespaceAddress);
      if (tick % 5 === index % 5) {
        const probe = net.connect({
          host: link.namespaceAddress,
          port: 80 + (tick % 3) * 363,
          localAddress: DEMO_BRIDGE.address,
        });
        probe.on("error", () => undefined);
        probe.setTimeout(1000, () => probe.destroy());
      }
    }
  }, 200);
  return () => {
    clearInterval(timer);
    socket.close();
  };
}
