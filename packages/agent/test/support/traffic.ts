// Known traffic from the sender namespace, by a small node UDP sender.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LINKTYPE, readPcap } from "@tapfleet/sensor/pcap";
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

/**
 * Sends UDP datagrams whose payload is `<prefix>-<i>`, so a capture can be checked packet by
 * packet. A plain `node -e` script (no TypeScript loader) starts fast, which matters when the
 * packets must land inside a short capture window.
 */
export async function sendLabelledUdp(
  ns: string,
  jobs: Array<{ address: string; port: number; count: number; prefix: string }>,
): Promise<void> {
  const script = `
    const dgram = require("node:dgram");
    const jobs = JSON.parse(process.argv[1]);
    const socket = dgram.createSocket("udp4");
    (async () => {
      for (const job of jobs)
        for (let i = 0; i < job.count; i++) {
          await new Promise((resolve, reject) =>
            socket.send(Buffer.from(job.prefix + "-" + i), job.port, job.address, (e) => (e ? reject(e) : resolve())));
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      socket.close();
    })();`;
  await run("ip", ["netns", "exec", ns, process.execPath, "-e", script, JSON.stringify(jobs)]);
}

export interface UdpRecord {
  destinationPort: number;
  payload: string;
  /** Epoch microseconds. */
  atUs: number;
}

/** Reads a classic little-endian pcap of Ethernet frames; throws unless every record is IPv4/UDP. */
export function udpRecords(pcap: Uint8Array): UdpRecord[] {
  const { header, records } = readPcap(pcap);
  if (!header.littleEndian || header.nanoseconds || header.linkType !== LINKTYPE.ETHERNET)
    throw new Error("not a little-endian microsecond pcap of Ethernet frames");
  return records.map((record, index) => {
    const frame = Buffer.from(record.data.buffer, record.data.byteOffset, record.data.byteLength);
    const ip = frame.subarray(14);
    if (frame.readUInt16BE(12) !== 0x0800 || ip[9] !== 17) throw new Error(`record ${index} is not IPv4/UDP`);
    const udp = ip.subarray((ip[0]! & 0x0f) * 4);
    return { destinationPort: udp.readUInt16BE(2), payload: udp.subarray(8).toString(), atUs: record.atUs };
  });
}
