// The sensorDrift.live stream of one cluster, opened so that no verdict can
// slip past it: the stream subscribes to the bus once it starts, a moment
// after its headers arrive, and the leader now judges a newly tracked
// DaemonSet within milliseconds of the change that tracks it.

import { publishTopic, SENSOR_DRIFT_TOPIC } from "@tapfleet/core";
import type { LiveBus } from "@tapfleet/db";
import { readSse, type SseReader } from "./sse.ts";

/** A message only these probes send: a verdict on a DaemonSet named after the probe. */
const probeMessage = (clusterId: string, name: string) => ({
  type: "verdicts" as const,
  clusterId,
  drifts: [
    {
      clusterId,
      daemonSet: { namespace: "stream-probe", name },
      tracked: "installed" as const,
      state: "missing" as const,
      since: new Date(0).toISOString(),
      checkedAt: new Date(0).toISOString(),
      changes: [],
    },
  ],
});
type Message = { drifts: Array<{ daemonSet: { namespace: string; name: string } }> };
const isProbe = (message: Message, name?: string) =>
  message.drifts[0]?.daemonSet.namespace === "stream-probe" &&
  (name === undefined || message.drifts[0]?.daemonSet.name === name);

/**
 * Opens the stream and returns it once it is subscribed: probes are published
 * on `bus` until one comes through, then a last one whose arrival means that
 * every earlier probe has arrived too (or never will); all are read off.
 */
export async function openDriftLive(options: {
  url: string;
  bus: LiveBus;
  token: string;
  clusterId: string;
  signal: AbortSignal;
}): Promise<SseReader> {
  const { bus, clusterId } = options;
  const input = encodeURIComponent(JSON.stringify({ clusterId }));
  const response = await fetch(`${options.url}/trpc/sensorDrift.live?input=${input}`, {
    headers: { authorization: `Bearer ${options.token}`, accept: "text/event-stream" },
    signal: options.signal,
  });
  if (response.status !== 200) throw new Error(`sensorDrift.live answered ${response.status}`);
  const live = readSse(response);
  const sent: Promise<void>[] = [];
  const probe = (name: string) =>
    sent.push(publishTopic(bus, SENSOR_DRIFT_TOPIC, probeMessage(clusterId, name)));
  probe("early");
  const timer = setInterval(() => probe("early"), 100);
  try {
    await live.readUntil<Message>((messages) => messages.some((message) => isProbe(message)), 10_000);
  } finally {
    clearInterval(timer);
  }
  await Promise.all(sent);
  probe("last");
  await live.readUntil<Message>((messages) => {
    const last = messages.some((message) => isProbe(message, "last"));
    if (last) messages.splice(0);
    return last;
  }, 10_000);
  return live;
}
