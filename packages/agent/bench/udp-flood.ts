// A paced UDP generator for the benchmark:
//   node --import tsx udp-flood.ts <address> <port> <payloadBytes> <packetsPerSecond> <seconds>
// Sends in small bursts, keeping at most a window of sends in flight, and
// prints {"sent": n, "seconds": s} so that the bench knows the rate it
// really achieved (node's dgram tops out somewhere; the bench reports it).
import dgram from "node:dgram";

const [address = "", port = "0", size = "64", rate = "1000", duration = "3"] = process.argv.slice(2);
const socket = dgram.createSocket("udp4");
const payload = Buffer.alloc(Number(size), 0x62);
const perSecond = Number(rate);
const total = Math.round(perSecond * Number(duration));
const window = 2048;
let sent = 0;
let completed = 0;
let inFlight = 0;
const started = process.hrtime.bigint();

await new Promise<void>((resolve, reject) => {
  const onSent = (error: Error | null): void => {
    inFlight--;
    completed++;
    if (error !== null) reject(error);
    else if (completed === total) resolve();
  };
  const tick = (): void => {
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    const due = Math.min(total, Math.floor(elapsed * perSecond));
    while (sent < due && inFlight < window) {
      sent++;
      inFlight++;
      socket.send(payload, Number(port), address, onSent);
    }
    if (sent < total) setImmediate(tick);
  };
  if (total === 0) resolve();
  else tick();
});
socket.close();
process.stdout.write(
  `${JSON.stringify({ sent, seconds: Number(process.hrtime.bigint() - started) / 1e9 })}\n`,
);
