// Merging a live report into the cached sensor list: a pure function so it can be tested
// without a server. Reports for sensors the list does not know yet are signalled to the caller,
// which refetches the list (a new sensor needs fields a report does not carry).
import type { RouterOutputs } from "@/lib/trpc";

type SensorList = RouterOutputs["sensors"]["list"];
type Report = SensorList["items"][number]["lastSummary"] & {};

export function applyLiveReport(list: SensorList, report: Report): { list: SensorList; known: boolean } {
  let known = false;
  const items = list.items.map((sensor) => {
    if (sensor.id !== report.sensorId) return sensor;
    known = true;
    // Reports can arrive out of order across replicas; never replace a newer one with an older one.
    // Compared by the server's receive time, not the agent's sequence, which restarts with the pod.
    if (sensor.lastSummary && Date.parse(sensor.lastSummary.receivedAt) > Date.parse(report.receivedAt))
      return sensor;
    return { ...sensor, lastSeenAt: report.receivedAt, lastSummary: report };
  });
  return { list: known ? { ...list, items } : list, known };
}
