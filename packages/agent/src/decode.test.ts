import { describe, expect, it } from "vitest";
import { LINKTYPE } from "@tapfleet/sensor/pcap";
import { decodePacket, emptyDecodedPacket, formatIpv4, formatIpv6 } from "./decode.ts";

function ethernet(etherType: number, payload: number[], vlan?: number): Uint8Array {
  const head = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
  const tag = vlan === undefined ? [] : [0x81, 0x00, vlan >> 8, vlan & 0xff];
  return Uint8Array.from([...head, ...tag, etherType >> 8, etherType & 0xff, ...payload]);
}

const ipv4 = (protocol: number, source: number[]): number[] => [
  0x45,
  0,
  0,
  28,
  0,
  0,
  0,
  0,
  64,
  protocol,
  0,
  0,
  ...source,
  10,
  0,
  0,
  1,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
];
const ipv6 = (next: number, rest: number[]): number[] => [
  0x60,
  0,
  0,
  0,
  0,
  rest.length,
  next,
  64,
  0xfd,
  0,
  ...Array<number>(13).fill(0),
  2,
  0xfd,
  0,
  ...Array<number>(13).fill(0),
  1,
  ...rest,
];

describe("decodePacket", () => {
  it.each([
    [
      "IPv4 UDP",
      ethernet(0x0800, ipv4(17, [10, 1, 2, 3])),
      { network: 4, transport: "udp", source: "10.1.2.3" },
    ],
    [
      "IPv4 TCP behind a VLAN tag",
      ethernet(0x0800, ipv4(6, [192, 168, 0, 9]), 42),
      { network: 4, transport: "tcp", source: "192.168.0.9" },
    ],
    [
      "IPv4 ICMP",
      ethernet(0x0800, ipv4(1, [172, 16, 0, 1])),
      { network: 4, transport: "icmp", source: "172.16.0.1" },
    ],
    [
      "IPv4 GRE counts as other",
      ethernet(0x0800, ipv4(47, [1, 1, 1, 1])),
      { network: 4, transport: "other", source: "1.1.1.1" },
    ],
    [
      "IPv6 ICMPv6 after a hop-by-hop header",
      ethernet(0x86dd, ipv6(0, [58, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0])),
      { network: 6, transport: "icmp", source: "fd00::2" },
    ],
    [
      "IPv6 UDP",
      ethernet(0x86dd, ipv6(17, Array<number>(8).fill(0))),
      { network: 6, transport: "udp", source: "fd00::2" },
    ],
  ])("%s", (_, frame, expected) => {
    const out = emptyDecodedPacket();
    decodePacket(LINKTYPE.ETHERNET, frame, frame.length, out);
    expect({
      network: out.network,
      transport: out.transport,
      source: out.network === 4 ? formatIpv4(out.sourceV4) : out.sourceV6,
    }).toEqual(expected);
    // The same frame inside a larger buffer (as in a pcap chunk), with bytes around it.
    const inside = new Uint8Array(7 + frame.length + 64).fill(0xee);
    inside.set(frame, 7);
    const within = emptyDecodedPacket();
    decodePacket(LINKTYPE.ETHERNET, inside, frame.length, within, 7);
    expect(within).toEqual(out);
  });

  it("leaves ARP and truncated frames without a network layer", () => {
    const out = emptyDecodedPacket();
    const arp = ethernet(0x0806, Array<number>(28).fill(0));
    decodePacket(LINKTYPE.ETHERNET, arp, arp.length, out);
    expect(out.network).toBe(0);
    const short = ethernet(0x0800, ipv4(17, [10, 0, 0, 1]));
    decodePacket(LINKTYPE.ETHERNET, short, 20, out);
    expect(out.network).toBe(0);
  });

  it("reads raw IP and Linux cooked captures", () => {
    const out = emptyDecodedPacket();
    const raw = Uint8Array.from(ipv4(17, [10, 9, 8, 7]));
    decodePacket(LINKTYPE.RAW, raw, raw.length, out);
    expect([out.network, out.transport, formatIpv4(out.sourceV4)]).toEqual([4, "udp", "10.9.8.7"]);
    const sll = Uint8Array.from([
      0,
      0,
      0,
      1,
      0,
      6,
      1,
      2,
      3,
      4,
      5,
      6,
      0,
      0,
      0x08,
      0x00,
      ...ipv4(6, [10, 0, 0, 5]),
    ]);
    decodePacket(LINKTYPE.LINUX_SLL, sll, sll.length, out);
    expect([out.network, out.transport, formatIpv4(out.sourceV4)]).toEqual([4, "tcp", "10.0.0.5"]);
  });
});

describe("formatIpv6", () => {
  it.each([
    ["fd00:0:0:0:0:0:0:1", "fd00::1"],
    ["2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
  ])("%s → %s", (full, expected) => {
    const bytes = new Uint8Array(16);
    full.split(":").forEach((group, index) => {
      const value = Number.parseInt(group, 16);
      bytes[index * 2] = value >> 8;
      bytes[index * 2 + 1] = value & 0xff;
    });
    expect(formatIpv6(bytes, 0)).toBe(expected);
  });
});
