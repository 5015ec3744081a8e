// The agent's own uploads cross the interfaces it captures (the node's
// uplink): captured and forwarded again, they would feed back into ever
// larger uploads. So every capture leaves out TCP to the peer it talks to.

import { isIP } from "node:net";
import { causeMessage } from "./cause-message.ts";

/** The user's BPF (if any) and "not (tcp and host <peer addresses> and port <peer port>)". */
export async function selfExcludingFilter(
  userFilter: string,
  peer: { host: string; port: number },
  resolve: (host: string) => Promise<string[]>,
): Promise<{ expression: string; excluded?: string; problem?: string }> {
  let addresses: string[];
  try {
    addresses = isIP(peer.host) === 0 ? await resolve(peer.host) : [peer.host];
  } catch (error) {
    return { expression: userFilter, problem: causeMessage(error) };
  }
  if (addresses.length === 0) return { expression: userFilter, problem: "no address" };
  const hosts = addresses.map((address) => `host ${address}`).join(" or ");
  const excluded = `not (tcp and (${hosts}) and port ${peer.port})`;
  return { expression: userFilter === "" ? excluded : `(${userFilter}) and ${excluded}`, excluded };
}
