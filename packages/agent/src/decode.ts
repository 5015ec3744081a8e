// A small decoder for what the statistics need: the network layer (IPv4 or
// IPv6), the transport (TCP, UDP, ICMP/ICMPv6 or other) and the source
// address. It runs for every captured packet, so it allocates nothing for
// IPv4 (the address is a 32-bit number) and writes into a caller-owned
// result object.

import { LINKTYPE } from "@tapfleet/sensor/pcap";

export type Transport = "tcp" | "udp" | "icmp" | "other";

export interface DecodedPacket {
  /** 0 when the packet is not IP (ARP, LLDP…) or too short to tell. */
  network: 0 | 4 | 6;
  transport: Transport | undefined;
  /** IPv4 source as an unsigned 32-bit number (valid when network is 4). */
  sourceV4: number;
  /** IPv6 source in canonical text form (valid when network is 6). */
  sourceV6: string;
}

export function emptyDecodedPacket(): DecodedPacket {
  return { network: 0, transport: undefined, sourceV4: 0, sourceV6: "" };
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = [0x8100, 0x88a8, 0x9100];

/**
 * Decodes the `length` captured bytes of link type `linkType` that start at
 * `start` in `packet` (a packet inside a larger buffer, such as a pcap chunk,
 * needs no view of its own) into `out`.
 */
export function decodePacket(
  linkType: number,
  packet: Uint8Array,
  length: number,
  out: DecodedPacket,
  start = 0,
): void {
  out.network = 0;
  out.transport = undefined;
  // Offsets below are absolute; `end` is where the captured bytes stop.
  const end = start + length;
  let offset: number;
  let etherType: number;
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      if (length < 14) return;
      offset = start + 12;
      etherType = (packet[offset]! << 8) | packet[offset + 1]!;
      offset += 2;
      // Up to two VLAN tags (802.1Q, Q-in-Q).
      for (let tags = 0; tags < 2 && ETHERTYPE_VLAN.includes(etherType); tags++) {
        if (end < offset + 4) return;
        etherType = (packet[offset + 2]! << 8) | packet[offset + 3]!;
        offset += 4;
      }
      break;
    }
    case LINKTYPE.LINUX_SLL:
      if (length < 16) return;
      etherType = (packet[start + 14]! << 8) | packet[start + 15]!;
      offset = start + 16;
      break;
    case LINKTYPE.LINUX_SLL2:
      if (length < 20) return;
      etherType = (packet[start]! << 8) | packet[start + 1]!;
      offset = start + 20;
      break;
    case LINKTYPE.RAW:
      if (length < 1) return;
      etherType = packet[start]! >> 4 === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
      offset = start;
      break;
    case LINKTYPE.NULL: {
      if (length < 4) return;
      // Host byte order address family: 2 is AF_INET; 10, 24, 28, 30 are AF_INET6 on various systems.
      const family = packet[start] !== 0 ? packet[start]! : packet[start + 3]!;
      etherType = family === 2 ? ETHERTYPE_IPV4 : [10, 24, 28, 30].includes(family) ? ETHERTYPE_IPV6 : 0;
      offset = start + 4;
      break;
    }
    default:
      return;
  }
  if (etherType === ETHERTYPE_IPV4) decodeIpv4(packet, offset, end, out);
  else if (etherType === ETHERTYPE_IPV6) decodeIpv6(packet, offset, end, out);
}

function transportOf(protocol: number): Transport {
  switch (protocol) {
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 1:
    case 58:
      return "icmp";
    default:
      return "other";
  }
}

function decodeIpv4(packet: Uint8Array, offset: number, end: number, out: DecodedPacket): void {
  if (end < offset + 20 || packet[offset]! >> 4 !== 4) return;
  out.network = 4;
  out.sourceV4 =
    ((packet[offset + 12]! << 24) |
      (packet[offset + 13]! << 16) |
      (packet[offset + 14]! << 8) |
      packet[offset + 15]!) >>>
    0;
  out.transport = transportOf(packet[offset + 9]!);
}

// IPv6 extension headers that sit between the fixed header and the transport.
const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AUTHENTICATION = 51;
const DESTINATION_OPTIONS = 60;

function decodeIpv6(packet: Uint8Array, offset: number, end: number, out: DecodedPacket): void {
  if (end < offset + 40 || packet[offset]! >> 4 !== 6) return;
  out.network = 6;
  out.sourceV6 = formatIpv6(packet, offset + 8);
  let next = packet[offset + 6]!;
  let cursor = offset + 40;
  for (let hops = 0; hops < 8; hops++) {
    if (next === HOP_BY_HOP || next === ROUTING || next === DESTINATION_OPTIONS) {
      if (end < cursor + 2) break;
      const headerLength = (packet[cursor + 1]! + 1) * 8;
      next = packet[cursor]!;
      cursor += headerLength;
    } else if (next === FRAGMENT) {
      if (end < cursor + 8) break;
      next = packet[cursor]!;
      cursor += 8;
    } else if (next === AUTHENTICATION) {
      if (end < cursor + 2) break;
      const headerLength = (packet[cursor + 1]! + 2) * 4;
      next = packet[cursor]!;
      cursor += headerLength;
    } else {
      out.transport = transportOf(next);
      return;
    }
  }
  out.transport = "other";
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run (≥ 2) of zero groups as "::". */
export function formatIpv6(bytes: Uint8Array, offset: number): string {
  const groups: number[] = [];
  for (let index = 0; index < 8; index++)
    groups.push((bytes[offset + index * 2]! << 8) | bytes[offset + index * 2 + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let index = 0; index < 8;) {
    if (groups[index] !== 0) {
      index++;
      continue;
    }
    let end = index;
    while (end < 8 && groups[end] === 0) end++;
    if (end - index > bestLength) {
      bestStart = index;
      bestLength = end - index;
    }
    index = end;
  }
  const hex = (list: number[]): string => list.map((group) => group.toString(16)).join(":");
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

export function formatIpv4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/** Maps what the pcap binding reports ("LINKTYPE_ETHERNET", "Unknown linktype 276") to the number. */
export function linkTypeNumber(name: string): number {
  switch (name) {
    case "LINKTYPE_NULL":
      return LINKTYPE.NULL;
    case "LINKTYPE_ETHERNET":
      return LINKTYPE.ETHERNET;
    case "LINKTYPE_RAW":
      return LINKTYPE.RAW;
    case "LINKTYPE_LINUX_SLL":
      return LINKTYPE.LINUX_SLL;
    case "LINKTYPE_IEEE802_11_RADIO":
      return LINKTYPE.IEEE802_11_RADIO;
    default: {
      const match = /(\d+)$/.exec(name);
      return match === null ? -1 : Number(match[1]);
    }
  }
}
