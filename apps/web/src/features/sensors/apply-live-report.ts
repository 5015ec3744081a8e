// Merging a live report into the cached sensor list: a pure function so it can be tested
// without a server. Reports for sensors the list does not know yet are signalled to the caller,
// which refetches the list (a new sensor needs fields a report does not carry).
import type { RouterOutputs } from "@/lib/trpc";

type SensorList = RouterOutputs["sensors"]["list"];
type Sensor = SensorList["items"][number];
/** What `sensors.live` sends: a report's summary and the sensor's reporting state after it. */
type LiveReport = NonNullable<Sensor["lastSummary"]> & { reporting: Sensor["reporting"] };

export function applyLiveReport(list: SensorList, report: LiveReport): { list: SensorList; known: boolean } {
  let known = false;
  const { reporting, ...summary } = report;
  const items = list.items.map((sensor) => {
    if (sensor.id !== summary.sensorId) return sensor;
    known = true;
    // Reports can arrive out of order across replicas; never replace a newer one with an older one.
    // Compared by the server's receive time, not the agent's sequence, which restarts with the pod.
    if (sensor.lastSummary && Date.parse(sensor.lastSummary.receivedAt) > Date.parse(summary.receivedAt))
      return sensor;
    return { ...sensor, lastSeenAt: summary.receivedAt, lastSummary: summary, reporting };
  });
  return { list: known ? { ...list, items } : list, known };
}
