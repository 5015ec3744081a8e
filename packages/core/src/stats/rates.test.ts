import { describe, expect, it } from "vitest";
import { deltaBetween, deltasOf, ratesOf, type CounterSample, type InterfaceCounters } from "./rates.ts";

const RUN = Date.parse("2026-12-01T00:00:00Z");

function counters(name: string, packets: number, extra: Partial<InterfaceCounters> = {}): InterfaceCounters {
  return { name, packets, bytes: packets * 100, kernelDrops: 0, interfaceDrops: 0, ...extra };
}

function sample(
  sequence: number,
  interfaces: InterfaceCounters[],
  overrides: Partial<CounterSample> = {},
): CounterSample {
  const at = RUN + (sequence + 1) * 10_000;
  return { runStartedAt: RUN, sequence, receivedAt: at + 50, sentAt: at, interfaces, ...overrides };
}

describe("deltaBetween", () => {
  const cases: {
    name: string;
    previous: CounterSample | null;
    current: CounterSample;
    expected: { seconds: number; packets: Record<string, number> } | null;
  }[] = [
    {
      name: "consecutive reports of one run: the difference over the agent's interval",
      previous: sample(1, [counters("eth0", 1000)]),
      current: sample(2, [counters("eth0", 3000)]),
      expected: { seconds: 10, packets: { eth0: 2000 } },
    },
    {
      name: "a lost report in between: one delta over both intervals, nothing lost",
      previous: sample(1, [counters("eth0", 1000)]),
      current: sample(3, [counters("eth0", 5000)]),
      expected: { seconds: 20, packets: { eth0: 4000 } },
    },
    {
      name: "an agent restart (counters from zero, new run): counted from the new run's start, no negative",
      previous: sample(50, [counters("eth0", 900_000)]),
      current: sample(0, [counters("eth0", 700)], { runStartedAt: RUN + 600_000, sentAt: RUN + 607_000 }),
      expected: { seconds: 7, packets: { eth0: 700 } },
    },
    {
      name: "a new run seen first mid-way (sequence past 0): no honest delta",
      previous: sample(50, [counters("eth0", 900_000)]),
      current: sample(4, [counters("eth0", 700)], { runStartedAt: RUN + 600_000, sentAt: RUN + 650_000 }),
      expected: null,
    },
    {
      name: "the first report of a run with nothing before it counts from the run's start",
      previous: null,
      current: sample(0, [counters("eth0", 500)]),
      expected: { seconds: 10, packets: { eth0: 500 } },
    },
    {
      name: "a report seen twice (same run and sequence) is not an interval",
      previous: sample(0, [counters("eth0", 500)]),
      current: sample(0, [counters("eth0", 500)]),
      expected: null,
    },
    {
      name: "an agent clock that did not move gives no rate (no division by zero)",
      previous: sample(1, [counters("eth0", 1000)]),
      current: sample(2, [counters("eth0", 2000)], { sentAt: RUN + 20_000 }),
      expected: null,
    },
    {
      name: "several interfaces: each its own difference; one whose counters went back is left out",
      previous: sample(1, [counters("eth0", 1000), counters("eth1", 5000), counters("eth2", 10)]),
      current: sample(2, [counters("eth0", 1500), counters("eth1", 100), counters("eth2", 30)]),
      expected: { seconds: 10, packets: { eth0: 500, eth2: 20 } },
    },
    {
      name: "an interface the previous report did not capture yet has no delta",
      previous: sample(1, [counters("eth0", 1000)]),
      current: sample(2, [counters("eth0", 1100), counters("eth9", 50)]),
      expected: { seconds: 10, packets: { eth0: 100 } },
    },
    {
      name: "without run starts (live summaries of older servers): a sequence that goes back is a restart",
      previous: sample(9, [counters("eth0", 1000)], { runStartedAt: null }),
      current: sample(2, [counters("eth0", 50)], { runStartedAt: null }),
      expected: null,
    },
  ];
  it.each(cases)("$name", ({ previous, current, expected }) => {
    const delta = deltaBetween(previous, current);
    if (expected === null) {
      expect(delta).toBeNull();
      return;
    }
    expect(delta?.seconds).toBe(expected.seconds);
    expect(Object.fromEntries(delta!.interfaces.map((i) => [i.name, i.packets]))).toEqual(expected.packets);
  });

  it("differences protocol counters and drops too, and rates are per second in bits", () => {
    const protocols = (tcp: number) => ({ ipv4: tcp, ipv6: 0, tcp, udp: 0, icmp: 0, other: 0 });
    const delta = deltaBetween(
      sample(1, [counters("eth0", 100, { kernelDrops: 5, interfaceDrops: 1, protocols: protocols(100) })]),
      sample(2, [counters("eth0", 300, { kernelDrops: 25, interfaceDrops: 11, protocols: protocols(250) })]),
    )!;
    expect(delta.interfaces[0]!.protocols).toEqual({
      ipv4: 150,
      ipv6: 0,
      tcp: 150,
      udp: 0,
      icmp: 0,
      other: 0,
    });
    expect(ratesOf(delta)).toEqual([
      { name: "eth0", packetsPerSecond: 20, bitsPerSecond: (200 * 100 * 8) / 10, dropsPerSecond: 3 },
    ]);
  });
});

describe("deltasOf", () => {
  it("pairs reports in receipt order, across a restart without a spike or a negative", () => {
    const restartedAt = RUN + 35_000;
    const deltas = deltasOf(
      [
        sample(2, [counters("eth0", 3000)]),
        sample(0, [counters("eth0", 100)], {
          runStartedAt: restartedAt,
          sentAt: restartedAt + 5000,
          receivedAt: restartedAt + 5050,
        }),
        sample(1, [counters("eth0", 2000)]),
        sample(1, [counters("eth0", 600)], {
          runStartedAt: restartedAt,
          sentAt: restartedAt + 15_000,
          receivedAt: restartedAt + 15_050,
        }),
      ],
      sample(0, [counters("eth0", 1000)]),
    );
    expect(deltas.map((d) => [d.seconds, d.interfaces[0]?.packets])).toEqual([
      [10, 1000],
      [10, 1000],
      [5, 100],
      [10, 500],
    ]);
    for (const d of deltas) for (const i of d.interfaces) expect(i.packets).toBeGreaterThanOrEqual(0);
  });
});
