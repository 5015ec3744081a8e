import { describe, expect, it } from "vitest";
import { emptyDecodedPacket } from "./decode.ts";
import { InterfaceCounters } from "./interface-stats.ts";

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
});
