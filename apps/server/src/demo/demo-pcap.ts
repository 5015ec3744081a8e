// The traffic the demo's agents replay when they may not capture (no root):
// ten seconds of a small office network (DNS, HTTPS, a database, pings) from
// a handful of hosts, made here with the sensor contract's pcap writer, so
// nothing is downloaded and the file is the same every time.

import { encodePcap, LINKTYPE, type PcapRecordInput } from "@tapfleet/sensor/pcap";

const PROTOCOL = { icmp: 1, tcp: 6, udp: 17 } as const;

function frame(options: {
  from: readonly number[];
  to: readonly number[];
  protocol: keyof typeof PROTOCOL;
  sourcePort: number;
  destinationPort: number;
  payloadBytes: number;
}): Uint8Array {
  const transport = options.protocol === "tcp" ? 20 : 8;
  const data = Buffer.alloc(14 + 20 + transport + options.payloadBytes);
  data.set([0x02, 0, 0, 0, 0, options.to[3]!, 0x02, 0, 0, 0, 0, options.from[3]!], 0);
  data.writeUInt16BE(0x0800, 12);
  data[14] = 0x45;
  data.writeUInt16BE(20 + transport + options.payloadBytes, 16);
  data[22] = 64;
  data[23] = PROTOCOL[options.protocol];
  data.set(options.from, 26);
  data.set(options.to, 30);
  if (options.protocol === "icmp") {
    data[34] = 8;
  } else {
    data.writeUInt16BE(options.sourcePort, 34);
    data.writeUInt16BE(options.destinationPort, 36);
    if (options.protocol === "udp") data.writeUInt16BE(8 + options.payloadBytes, 38);
    else {
      data[46] = 0x50;
      data[47] = 0x18;
    }
  }
  return data;
}

/** About 300 packets over 10 s; replayed in a loop by the agent (TAPFLEET_CAPTURE_REPLAY_FILE). */
export function makeDemoPcap(): Uint8Array {
  const hosts = [10, 11, 12, 13, 14].map((last) => [10, 20, 0, last]);
  const server = [10, 20, 1, 5];
  const database = [10, 20, 1, 9];
  const resolver = [10, 20, 0, 2];
  const records: PcapRecordInput[] = [];
  const start = 1_700_000_000;
  for (let i = 0; i < 300; i++) {
    const atUs = Math.floor((i * 10_000_000) / 300 + ((i * 7919) % 20_000));
    const host = hosts[(i * 3) % hosts.length]!;
    const kind = i % 10;
    const options =
      kind < 5
        ? {
            from: host,
            to: server,
            protocol: "tcp" as const,
            sourcePort: 40000 + i,
            destinationPort: 443,
            payloadBytes: 200 + ((i * 131) % 1200),
          }
        : kind < 7
          ? {
              from: server,
              to: database,
              protocol: "tcp" as const,
              sourcePort: 50000 + i,
              destinationPort: 5432,
              payloadBytes: 80 + ((i * 17) % 400),
            }
          : kind < 9
            ? {
                from: host,
                to: resolver,
                protocol: "udp" as const,
                sourcePort: 30000 + i,
                destinationPort: 53,
                payloadBytes: 40 + (i % 30),
              }
            : {
                from: host,
                to: server,
                protocol: "icmp" as const,
                sourcePort: 0,
                destinationPort: 0,
                payloadBytes: 56,
              };
    records.push({
      seconds: start + Math.floor(atUs / 1_000_000),
      fraction: atUs % 1_000_000,
      data: frame(options),
    });
  }
  records.sort((a, b) => a.seconds - b.seconds || a.fraction - b.fraction);
  return encodePcap({ linkType: LINKTYPE.ETHERNET, snapLength: 65535, records });
}
