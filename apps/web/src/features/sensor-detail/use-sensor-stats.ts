"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef } from "react";
import { useTRPC, type RouterInputs } from "@/lib/trpc";
import { useLiveFeed } from "@/lib/use-live-feed";
import { appendPoint } from "./append-point";

export type StatsRange = RouterInputs["stats"]["series"]["range"];

/**
 * A sensor's series over `range`, kept current by its live points: on the point-per-report
 * range each point is appended as it arrives; on bucketed ranges a point refetches the series
 * (its newest bucket is read from the reports themselves), at most every two seconds.
 */
export function useSensorStats(sensorId: string, range: StatsRange) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const options = trpc.stats.series.queryOptions({ sensorId, range });
  const series = useQuery({ ...options, refetchInterval: range === "15m" ? false : 60_000 });
  const lastRefetch = useRef(0);
  const live = useLiveFeed(
    "stats.live",
    { sensorId },
    {
      onData: (point) => {
        if (range === "15m") {
          queryClient.setQueryData(options.queryKey, (old) =>
            old ? appendPoint(old, point, Date.now()) : old,
          );
        } else if (Date.now() - lastRefetch.current > 2000) {
          lastRefetch.current = Date.now();
          void queryClient.invalidateQueries({ queryKey: options.queryKey });
        }
        // The sensor's header (last report, interfaces) follows its reports too.
        void queryClient.invalidateQueries({ queryKey: trpc.stats.sensor.queryKey({ sensorId }) });
      },
    },
  );
  return { series, live };
}
