"use client";

import { useTRPC } from "@/lib/trpc";
import { useLiveQuery } from "@/lib/use-live-query";
import { applyLiveReport } from "./apply-live-report";

/**
 * The sensor list, kept current by the live stream of reports (each with the sensor's reporting
 * state after it). `live` is the state of that stream's connection, not of any sensor. The
 * stream does not replay, so the list is fetched again after a reconnect.
 */
export function useLiveSensors(clusterId: string | undefined) {
  const trpc = useTRPC();
  const input = clusterId ? { clusterId } : undefined;
  const { query: sensors, live } = useLiveQuery(
    trpc.sensors.list.queryOptions(input),
    { path: "sensors.live", input },
    applyLiveReport,
  );
  return { sensors, live };
}
