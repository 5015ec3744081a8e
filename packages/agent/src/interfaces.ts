// The node's network interfaces, read from sysfs: /sys/class/net has one
// entry per interface of the agent's network namespace (the host's, with
// hostNetwork), and reading it needs no privilege and no netlink socket.

import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

export interface NetworkInterface {
  name: string;
  loopback: boolean;
}

const IFF_LOOPBACK = 0x8;

export type ListInterfaces = () => Promise<NetworkInterface[]>;

/** Lists interfaces under `root` (default /sys/class/net), sorted by name. */
export function sysfsInterfaceLister(root = "/sys/class/net"): ListInterfaces {
  return async () => {
    const names = await readdir(root);
    const interfaces = await Promise.all(
      names.map(async (name): Promise<NetworkInterface | undefined> => {
        try {
          const flags = Number.parseInt((await readFile(path.join(root, name, "flags"), "utf8")).trim(), 16);
          return {
            name,
            loopback: name === "lo" || (Number.isFinite(flags) && (flags & IFF_LOOPBACK) !== 0),
          };
        } catch {
          // Vanished between readdir and read, or not an interface (bonding_masters): skip.
          return undefined;
        }
      }),
    );
    return interfaces
      .filter((item): item is NetworkInterface => item !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name));
  };
}
