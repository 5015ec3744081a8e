"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useTRPC } from "@/lib/trpc";
import { applyLiveReport } from "./apply-live-report";

/**
 * The sensor list, kept current by the live stream of reports (each with the sensor's reporting
 * state after it). `live` is the state of that stream's connection, not of any sensor.
 */
export function useLiveSensors(clusterId: string | undefined) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = clusterId ? { clusterId } : undefined;
  const listOptions = trpc.sensors.list.queryOptions(input);
  const sensors = useQuery(listOptions);
  const live = useSubscription(
    trpc.sensors.live.subscriptionOptions(input, {
      onData: (report) => {
        const cached = queryClient.getQueryData(listOptions.queryKey);
        if (!cached) return;
        const { list, known } = applyLiveReport(cached, report);
        if (known) queryClient.setQueryData(listOptions.queryKey, list);
        else void queryClient.invalidateQueries({ queryKey: listOptions.queryKey });
      },
    }),
  );
  return { sensors, live };
}
