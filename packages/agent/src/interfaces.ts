// The node's network interfaces, read from sysfs: /sys/class/net has one
// entry per interface of the agent's network namespace (the host's, with
// hostNetwork), and reading it needs no privilege and no netlink socket.

import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

export interface NetworkInterface {
  name: string;
  loopback: boolean;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** Changes when an interface is deleted and re-created under the same name. */
  ifindex: number;
  /**
   * Counts carrier changes (down/up flaps). libpcap's socket does not recover
   * from its interface going down: the poll reports an error once and stops,
   * so a session that saw a flap must be reopened.
   */
  carrierChanges: number;
}

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;

export type ListInterfaces = () => Promise<NetworkInterface[]>;

/** Lists interfaces under `root` (default /sys/class/net), sorted by name. */
export function sysfsInterfaceLister(root = "/sys/class/net"): ListInterfaces {
  return async () => {
    const names = await readdir(root);
    const interfaces = await Promise.all(
      names.map(async (name): Promise<NetworkInterface | undefined> => {
        try {
          const read = async (file: string): Promise<string> =>
            (await readFile(path.join(root, name, file), "utf8")).trim();
          const flags = Number.parseInt(await read("flags"), 16);
          const ifindex = Number(await read("ifindex"));
          const carrierChanges = Number(await read("carrier_changes").catch(() => "0"));
          return {
            name,
            loopback: name === "lo" || (Number.isFinite(flags) && (flags & IFF_LOOPBACK) !== 0),
            up: Number.isFinite(flags) && (flags & IFF_UP) !== 0,
            ifindex,
            carrierChanges,
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
