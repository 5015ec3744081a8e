// Rates from cumulative counters. An agent's counters count from its start, so
// the traffic between two reports is the difference of their counters — but
// only between reports of the same agent run: a restarted agent counts from
// zero again, and the difference across a restart would be negative (or, the
// other way round, huge). Pure functions; the callers read and write.

/** Packets by protocol, as the agent counts them (see ZProtocolMixSchema in @tapfleet/sensor). */
export interface ProtocolCounts {
  ipv4: number;
  ipv6: number;
  tcp: number;
  udp: number;
  icmp: number;
  other: number;
}

export const PROTOCOL_NAMES = ["ipv4", "ipv6", "tcp", "udp", "icmp", "other"] as const;

export interface InterfaceCounters {
  name: string;
  packets: number;
  bytes: number;
  kernelDrops: number;
  interfaceDrops: number;
  /** Absent where the source does not carry them (live summaries). */
  protocols?: ProtocolCounts | undefined;
}

/** One report's counters, as far as rates need them. */
export interface CounterSample {
  /** The agent run's start (epoch ms); null when the source does not say. */
  runStartedAt: number | null;
  /** Counts from 0 at the run's start. */
  sequence: number;
  /** Server receive time (epoch ms): where the traffic is placed in time. */
  receivedAt: number;
  /** The agent's send time (epoch ms): the interval between two reports is measured on the agent's clock. */
  sentAt: number;
  interfaces: readonly InterfaceCounters[];
}

/** The traffic of one interface between two reports. */
export interface InterfaceDelta {
  name: string;
  packets: number;
  bytes: number;
  kernelDrops: number;
  interfaceDrops: number;
  protocols: ProtocolCounts | null;
}

/** The traffic between two consecutive reports of one run, placed at the later report. */
export interface SampleDelta {
  receivedAt: number;
  seconds: number;
  interfaces: InterfaceDelta[];
}

function sameRun(previous: CounterSample, current: CounterSample): boolean {
  if (previous.runStartedAt !== null && current.runStartedAt !== null)
    return previous.runStartedAt === current.runStartedAt && current.sequence > previous.sequence;
  // Without the run's start, a sequence that goes on is the evidence; a
  // counter that went back (checked per interface) catches the rest.
  return current.sequence > previous.sequence;
}

function difference(
  previous: InterfaceCounters | undefined,
  current: InterfaceCounters,
): InterfaceDelta | null {
  const base = previous ?? {
    name: current.name,
    packets: 0,
    bytes: 0,
    kernelDrops: 0,
    interfaceDrops: 0,
    protocols: { ipv4: 0, ipv6: 0, tcp: 0, udp: 0, icmp: 0, other: 0 },
  };
  const delta = {
    name: current.name,
    packets: current.packets - base.packets,
    bytes: current.bytes - base.bytes,
    kernelDrops: current.kernelDrops - base.kernelDrops,
    interfaceDrops: current.interfaceDrops - base.interfaceDrops,
  };
  // A counter that went back means the counting restarted (an interface
  // that disappeared and came back): no honest difference.
  if (delta.packets < 0 || delta.bytes < 0 || delta.kernelDrops < 0 || delta.interfaceDrops < 0) return null;
  let protocols: ProtocolCounts | null = null;
  if (current.protocols && base.protocols) {
    const from = base.protocols;
    const to = current.protocols;
    const candidate = Object.fromEntries(
      PROTOCOL_NAMES.map((p) => [p, to[p] - from[p]]),
    ) as unknown as ProtocolCounts;
    protocols = PROTOCOL_NAMES.every((p) => candidate[p] >= 0) ? candidate : null;
  }
  return { ...delta, protocols };
}

/**
 * The traffic between `previous` and `current`, or null when there is no
 * honest answer: another run (an agent restart), a sequence that did not go
 * on, or a clock that did not move. The first report of a run (sequence 0,
 * run start known) counts from zero at the run's start, so nothing is lost
 * across a restart and nothing spikes. An interface whose counters went back,
 * or that the previous report did not have, is left out.
 */
export function deltaBetween(previous: CounterSample | null, current: CounterSample): SampleDelta | null {
  if (previous && sameRun(previous, current)) {
    const seconds = (current.sentAt - previous.sentAt) / 1000;
    if (!(seconds > 0)) return null;
    const before = new Map(previous.interfaces.map((i) => [i.name, i]));
    const interfaces = current.interfaces
      .filter((i) => before.has(i.name))
      .map((i) => difference(before.get(i.name), i))
      .filter((d): d is InterfaceDelta => d !== null);
    return { receivedAt: current.receivedAt, seconds, interfaces };
  }
  const repeated = previous !== null && previous.runStartedAt === current.runStartedAt;
  if (current.sequence === 0 && current.runStartedAt !== null && !repeated) {
    const seconds = (current.sentAt - current.runStartedAt) / 1000;
    if (!(seconds > 0)) return null;
    const interfaces = current.interfaces
      .map((i) => difference(undefined, i))
      .filter((d): d is InterfaceDelta => d !== null);
    return { receivedAt: current.receivedAt, seconds, interfaces };
  }
  return null;
}

/**
 * The deltas of a run of reports of one sensor, oldest first. `previous` is the
 * report before the first one, when known (it gives the first one its delta).
 */
export function deltasOf(
  samples: readonly CounterSample[],
  previous: CounterSample | null = null,
): SampleDelta[] {
  const ordered = [...samples].sort((a, b) => a.receivedAt - b.receivedAt || a.sequence - b.sequence);
  const deltas: SampleDelta[] = [];
  let before = previous;
  for (const sample of ordered) {
    const delta = deltaBetween(before, sample);
    if (delta) deltas.push(delta);
    before = sample;
  }
  return deltas;
}

/** Per-second rates of one interface. Bits, not bytes: link speeds are quoted in bit/s. */
export interface InterfaceRates {
  name: string;
  packetsPerSecond: number;
  bitsPerSecond: number;
  dropsPerSecond: number;
}

export function ratesOf(delta: { seconds: number; interfaces: readonly InterfaceDelta[] }): InterfaceRates[] {
  return delta.interfaces.map((i) => ({
    name: i.name,
    packetsPerSecond: i.packets / delta.seconds,
    bitsPerSecond: (i.bytes * 8) / delta.seconds,
    dropsPerSecond: (i.kernelDrops + i.interfaceDrops) / delta.seconds,
  }));
}
