// Sends UDP datagrams: node --import tsx send-udp.ts <address> <port> <count> <payloadBytes> [packetsPerSecond]
// Run inside a namespace with `ip netns exec`. Prints the number sent.
// packetsPerSecond 0 (default) sends as fast as the socket takes them.
import dgram from "node:dgram";

const [address = "", port = "0", count = "0", size = "0", rate = "0"] = process.argv.slice(2);
const total = Number(count);
const perSecond = Number(rate);
const socket = dgram.createSocket(address.includes(":") ? "udp6" : "udp4");
const payload = Buffer.alloc(Number(size), 0x61);
let sent = 0;
const started = process.hrtime.bigint();

function sendOne(): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(payload, Number(port), address, (error) => (error ? reject(error) : resolve())),
  );
}

if (perSecond === 0) {
  // Keep a bounded number of sends in flight: fast without unbounded memory.
  const window = 64;
  let inFlight = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (inFlight < window && sent < total) {
        sent++;
        inFlight++;
        socket.send(payload, Number(port), address, (error) => {
          inFlight--;
          if (error) return reject(error);
          if (sent === total && inFlight === 0) resolve();
          else pump();
        });
      }
    };
    if (total === 0) resolve();
    else pump();
  });
} else {
  const intervalNs = 1e9 / perSecond;
  while (sent < total) {
    const due = started + BigInt(Math.round(sent * intervalNs));
    const now = process.hrtime.bigint();
    if (now < due) {
      const waitMs = Number(due - now) / 1e6;
      if (waitMs >= 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    await sendOne();
    sent++;
  }
}
socket.close();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(JSON.stringify({ sent, seconds }) + "\n");
