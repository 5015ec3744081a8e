// Known traffic from the sender namespace, by a small node UDP sender.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "./run.ts";

const sender = fileURLToPath(new URL("./send-udp.ts", import.meta.url));
const repositoryRoot = path.resolve(path.dirname(sender), "../../../..");

export interface SendResult {
  sent: number;
  seconds: number;
}

/** Sends `count` UDP datagrams of `payloadBytes` to address:port from namespace `ns`; `perSecond` 0 = as fast as possible. */
export async function sendUdp(
  ns: string,
  address: string,
  port: number,
  count: number,
  payloadBytes: number,
  perSecond = 0,
): Promise<SendResult> {
  const output = await run("ip", [
    "netns",
    "exec",
    ns,
    "sh",
    "-c",
    `cd ${repositoryRoot} && exec node --import tsx ${sender} ${address} ${port} ${count} ${payloadBytes} ${perSecond}`,
  ]);
  return JSON.parse(output.trim().split("\n").at(-1) ?? "{}") as SendResult;
}

/** Wire bytes of one UDP datagram on Ethernet: 14 + IP header + 8 + payload. */
export function udpFrameBytes(payloadBytes: number, family: 4 | 6): number {
  return 14 + (family === 4 ? 20 : 40) + 8 + payloadBytes;
}

/** ICMP port unreachable for such a datagram: 14 + 20 + 8 + the offending IP packet (IPv4 quotes it whole when it fits 576). */
export function icmpUnreachableBytes(payloadBytes: number): number {
  return 14 + 20 + 8 + 20 + 8 + payloadBytes;
}
