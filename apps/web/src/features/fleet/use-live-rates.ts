"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTRPC } from "@/lib/trpc";
import { useLiveFeed } from "@/lib/use-live-feed";
import { addLivePoint, EMPTY_LIVE_RATES, seedLivePoints, type LiveRatesState } from "./live-rates";

/**
 * Every sensor's latest rates (one cluster's, or the fleet's): first the latest known ones, read
 * from the stored reports with the page, then the server's live points as reports arrive; and a
 * clock that moves every few seconds so rates of sensors that stopped reporting drop out.
 * `loaded` is false until the stored rates are in (a page may wait for it rather than show dashes).
 */
export function useLiveRates(clusterId: string | undefined): {
  rates: LiveRatesState;
  nowSeconds: number;
  loaded: boolean;
} {
  const trpc = useTRPC();
  const input = clusterId ? { clusterId } : undefined;
  const stored = useQuery(trpc.stats.latest.queryOptions(input, { staleTime: Infinity }));
  const [state, setState] = useState<{ rates: LiveRatesState; seeded: unknown }>({
    rates: EMPTY_LIVE_RATES,
    seeded: undefined,
  });
  // Stored data seeds the state once per answer, during render (no frame of dashes in between).
  if (stored.data && state.seeded !== stored.data)
    setState({ rates: seedLivePoints(state.rates, stored.data.items), seeded: stored.data });
  const [nowSeconds, setNowSeconds] = useState(() => Date.now() / 1000);
  useLiveFeed("stats.clusterLive", input, {
    onData: (point) => {
      setState((current) => ({ ...current, rates: addLivePoint(current.rates, point) }));
      setNowSeconds(Date.now() / 1000);
    },
  });
  useEffect(() => {
    const timer = setInterval(() => setNowSeconds(Date.now() / 1000), 5_000);
    return () => clearInterval(timer);
  }, []);
  // A failed read of the stored rates leaves the live ones: the page does not wait for it.
  return { rates: state.rates, nowSeconds, loaded: state.seeded !== undefined || stored.isError };
}
