// Real traffic for the demo's nodes when it runs as root: each node gets a
// network namespace (tfdemo-<cluster>-<node>) joined to the host by a veth
// pair, and the node's agent captures the host-side end. Traffic flows to and
// from the namespace only (UDP and TCP sent into it, the ICMP and RST it
// answers with), never over loopback, where the server and its database talk:
// capturing that would make the agent capture the database work its own
// uploads cause.

import { execFile } from "node:child_process";
import dgram from "node:dgram";
import net from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);
export const DEMO_NETNS_PREFIX = "tfdemo-";

export interface DemoLink {
  netns: string;
  /** The host-side interface the node's agent captures. */
  hostInterface: string;
  hostAddress: string;
  namespaceAddress: string;
}

/** Namespace and addresses of node `node` (1-based) of demo cluster `cluster` (1-based). */
export function demoLinkFor(cluster: number, node: number): DemoLink {
  const subnet = cluster * 16 + node;
  return {
    netns: `${DEMO_NETNS_PREFIX}${cluster}-${node}`,
    hostInterface: `tfd${cluster}n${node}`,
    hostAddress: `10.213.${subnet}.1`,
    namespaceAddress: `10.213.${subnet}.2`,
  };
}

const ip = async (...args: string[]): Promise<void> => {
  try {
    await run("ip", args);
  } catch (error) {
    throw new Error(`ip ${args.join(" ")}`, { cause: error });
  }
};

export async function createDemoLink(link: DemoLink): Promise<void> {
  await removeDemoLink(link);
  const peer = `${link.hostInterface}p`;
  await ip("netns", "add", link.netns);
  await ip("link", "add", link.hostInterface, "type", "veth", "peer", "name", peer);
  await ip("link", "set", peer, "netns", link.netns);
  await ip("addr", "add", `${link.hostAddress}/30`, "dev", link.hostInterface);
  await ip("link", "set", link.hostInterface, "up");
  await ip("-n", link.netns, "addr", "add", `${link.namespaceAddress}/30`, "dev", peer);
  await ip("-n", link.netns, "link", "set", peer, "up");
  await ip("-n", link.netns, "link", "set", "lo", "up");
}

/** Removes the namespace (which takes the veth pair with it); nothing to do when it is gone. */
export async function removeDemoLink(link: DemoLink): Promise<void> {
  await run("ip", ["netns", "del", link.netns]).catch(() => undefined);
  await run("ip", ["link", "del", link.hostInterface]).catch(() => undefined);
}

/** Every demo namespace that exists, whoever made it (a demo that was killed leaves them behind). */
export async function listDemoNamespaces(): Promise<string[]> {
  const { stdout } = await run("ip", ["netns", "list"]);
  return stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(DEMO_NETNS_PREFIX));
}

/**
 * A small generator: every 200 ms a UDP datagram of varying size to each
 * namespace (answered with ICMP port unreachable) and now and then a TCP
 * connection attempt (answered with a reset). Stops with the returned function.
 */
export function startDemoTraffic(links: readonly DemoLink[]): () => void {
  const socket = dgram.createSocket("udp4");
  socket.on("error", () => undefined);
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    for (const [index, link] of links.entries()) {
      const size = 64 + ((tick * 37 + index * 101) % 900);
      socket.send(Buffer.alloc(size, tick % 256), 5000 + (tick % 16), link.namespaceAddress);
      if (tick % 5 === index % 5) {
        const probe = net.connect({ host: link.namespaceAddress, port: 80 + (tick % 3) * 363 });
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
