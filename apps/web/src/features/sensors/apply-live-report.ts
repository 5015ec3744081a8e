// Merging a live report into the cached sensor list: a pure reducer for `useLiveQuery`, tested
// without a server. A report from a sensor the list does not know yet asks for a refetch: a new
// sensor needs fields a report does not carry.
import type { LiveReducer } from "@/lib/use-live-query";
import type { RouterOutputs } from "@/lib/trpc";

type SensorList = RouterOutputs["sensors"]["list"];
type Sensor = SensorList["items"][number];
/** What `sensors.live` sends: a report's summary and the sensor's reporting state after it. */
export type LiveReport = NonNullable<Sensor["lastSummary"]> & { reporting: Sensor["reporting"] };

export const applyLiveReport: LiveReducer<SensorList, LiveReport> = (list, report) => {
  const { reporting, ...summary } = report;
  const index = list.items.findIndex((sensor) => sensor.id === summary.sensorId);
  const sensor = list.items[index];
  if (!sensor) return null;
  // Reports can arrive out of order across replicas; never replace a newer one with an older one.
  // Compared by the server's receive time, not the agent's sequence, which restarts with the pod.
  if (sensor.lastSummary && Date.parse(sensor.lastSummary.receivedAt) > Date.parse(summary.receivedAt))
    return list;
  const items = list.items.with(index, {
    ...sensor,
    lastSeenAt: summary.receivedAt,
    lastSummary: summary,
    reporting,
  });
  return { ...list, items };
};
