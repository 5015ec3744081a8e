"use client";

import { useEffect, useState } from "react";
import { useLiveFeed } from "@/lib/use-live-feed";
import { addLivePoint, EMPTY_LIVE_RATES, type LiveRatesState } from "./live-rates";

/**
 * Every sensor's latest live rates (one cluster's, or the fleet's), from the server's live points,
 * and a clock that moves every few seconds so rates of sensors that stopped reporting drop out.
 */
export function useLiveRates(clusterId: string | undefined): { rates: LiveRatesState; nowSeconds: number } {
  const [rates, setRates] = useState<LiveRatesState>(EMPTY_LIVE_RATES);
  const [nowSeconds, setNowSeconds] = useState(() => Date.now() / 1000);
  useLiveFeed("stats.clusterLive", clusterId ? { clusterId } : undefined, {
    onData: (point) => {
      setRates((state) => addLivePoint(state, point));
      setNowSeconds(Date.now() / 1000);
    },
  });
  useEffect(() => {
    const timer = setInterval(() => setNowSeconds(Date.now() / 1000), 5_000);
    return () => clearInterval(timer);
  }, []);
  return { rates, nowSeconds };
}
