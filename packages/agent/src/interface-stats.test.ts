import { describe, expect, it } from "vitest";
import { LINKTYPE } from "@tapfleet/sensor/pcap";
import { emptyDecodedPacket } from "./decode.ts";
import { InterfaceCounters } from "./interface-stats.ts";
import { PcapChunkBuilder, type PcapChunk } from "./pcap-chunk.ts";

describe("InterfaceCounters", () => {
  it("accumulates libpcap's 32-bit drop counters across wrap-around and session restarts", () => {
    const counters = new InterfaceCounters("t0");
    counters.updateDrops({ received: 0, dropped: 2 ** 32 - 10, interfaceDropped: 1 });
    counters.updateDrops({ received: 0, dropped: 5, interfaceDropped: 3 });
    counters.sessionRestarted();
    counters.updateDrops({ received: 0, dropped: 7, interfaceDropped: 0 });
    const snapshot = counters.takeSnapshot();
    expect([snapshot.kernelDrops, snapshot.interfaceDrops]).toEqual([2 ** 32 - 10 + 15 + 7, 3]);
  });

  it("ranks top talkers by bytes over the interval and starts a new interval after each snapshot", () => {
    const counters = new InterfaceCounters("t0");
    const packet = emptyDecodedPacket();
    packet.network = 4;
    packet.transport = "udp";
    packet.sourceV4 = 0x0a000001;
    counters.record(packet, 100);
    packet.sourceV4 = 0x0a000002;
    counters.record(packet, 60);
    counters.record(packet, 60);
    const first = counters.takeSnapshot();
    expect(first.topTalkers).toEqual([
      { address: "10.0.0.2", packets: 2, bytes: 120 },
      { address: "10.0.0.1", packets: 1, bytes: 100 },
    ]);
    expect(first.protocols).toEqual({ ipv4: 3, ipv6: 0, tcp: 0, udp: 3, icmp: 0, other: 0 });
    const second = counters.takeSnapshot();
    expect(second.topTalkers).toEqual([]);
    expect(second.packets).toBe(3);
  });

  it("counts every record of a pcap chunk, including a packet cut to fit, by its wire length", () => {
    const ethernet = (etherType: number, payload: number[]): Uint8Array =>
      Uint8Array.from([...Array<number>(12).fill(2), etherType >> 8, etherType & 0xff, ...payload]);
    const ipv4Udp = (last: number) =>
      ethernet(0x0800, [
        0x45,
        0,
        0,
        28,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
        10,
        0,
        0,
        last,
        10,
        0,
        0,
        99,
        ...Array<number>(8).fill(0),
      ]);
    const chunks: PcapChunk[] = [];
    const builder = new PcapChunkBuilder("t0", LINKTYPE.ETHERNET, 1024, 65535, (chunk) => chunks.push(chunk));
    const small = ipv4Udp(1);
    builder.add(1, 0, small, small.length, small.length);
    const arp = ethernet(0x0806, Array<number>(28).fill(0));
    builder.add(1, 1, arp, arp.length, arp.length);
    // Larger than the chunk: cut to fit, its record keeps the original length.
    const jumbo = new Uint8Array(3000);
    jumbo.set(ipv4Udp(2));
    builder.add(1, 2, jumbo, jumbo.length, jumbo.length);
    builder.flush();
    const counters = new InterfaceCounters("t0");
    const seen: number[] = [];
    for (const chunk of chunks)
      counters.recordChunk(LINKTYPE.ETHERNET, chunk.pcap, (_data, wire) => seen.push(wire));
    const snapshot = counters.takeSnapshot();
    expect(seen).toEqual([small.length, arp.length, 3000]);
    expect([snapshot.packets, snapshot.bytes]).toEqual([3, small.length + arp.length + 3000]);
    expect(snapshot.protocols).toEqual({ ipv4: 2, ipv6: 0, tcp: 0, udp: 2, icmp: 0, other: 0 });
    expect(snapshot.topTalkers.map((talker) => talker.address)).toEqual(["10.0.0.2", "10.0.0.1"]);
  });
});
