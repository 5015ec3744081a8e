// A faster generator for the benchmark: writes a prebuilt Ethernet/IPv4/UDP
// frame straight onto an interface with libpcap's pcap_inject (through the
// same optional `pcap` binding the agent uses), skipping the socket and
// routing layers that cap node's dgram at about 100k packets per second here.
//   node --import tsx frame-flood.ts <interface> <packetsPerSecond> <seconds> [payloadBytes]
// Prints {"sent": n, "seconds": s}.
import { createRequire } from "node:module";

interface InjectSession {
  open_live(...args: unknown[]): string;
  inject(frame: Buffer): void;
  close(): void;
}

const [device = "", rate = "100000", duration = "3", size = "18"] = process.argv.slice(2);
const binding = createRequire(import.meta.url)("pcap/build/Release/pcap_binding.node") as {
  PcapSession: new () => InjectSession;
};
const session = new binding.PcapSession();
session.open_live(
  device,
  "",
  1 << 20,
  128,
  "",
  () => undefined,
  false,
  1000,
  () => undefined,
  false,
);

// Broadcast-free frame to a MAC nobody owns and a benchmarking address (198.18.0.0/15, RFC 2544):
// the receiving kernel drops it right after the capture taps, so no replies disturb the count.
const payloadBytes = Number(size);
const frame = Buffer.alloc(14 + 20 + 8 + payloadBytes, 0x62);
Buffer.from([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00]).copy(frame, 0);
const ip = Buffer.from([0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1]);
ip.writeUInt16BE(20 + 8 + payloadBytes, 2);
let sum = 0;
for (let index = 0; index < 20; index += 2) sum += ip.readUInt16BE(index);
while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
ip.writeUInt16BE(~sum & 0xffff, 10);
ip.copy(frame, 14);
frame.writeUInt16BE(40000, 34);
frame.writeUInt16BE(9, 36);
frame.writeUInt16BE(8 + payloadBytes, 38);
frame.writeUInt16BE(0, 40);

const perSecond = Number(rate);
const total = Math.round(perSecond * Number(duration));
let sent = 0;
const started = process.hrtime.bigint();
while (sent < total) {
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const due = Math.min(total, Math.floor(elapsed * perSecond));
  if (due === sent) {
    // Ahead of schedule: yield the core briefly rather than spin.
    await new Promise((resolve) => setTimeout(resolve, 1));
    continue;
  }
  while (sent < due) {
    session.inject(frame);
    sent++;
  }
}
session.close();
process.stdout.write(
  `${JSON.stringify({ sent, seconds: Number(process.hrtime.bigint() - started) / 1e9 })}\n`,
);
