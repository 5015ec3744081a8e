"use client";

// A component's way to a live feed: `useLiveFeed(path, input, { onData })`.
//
//   const live = useLiveFeed("inventory.live", { clusterId }, {
//     onData: (message) => …,                 // each event, typed by the feed
//     onStarted: ({ resumed }) => …,          // first start and each reconnect; refetch if !resumed
//     enabled: cluster.isSuccess,             // optional, default true
//   });
//   <LiveBadge live={live} … />               // live: { status, error }
//
// Every feed of the tab travels on the tab's one SSE stream (lib/live-hub.ts): registering a
// feed never opens a connection of its own. Feeds: inventory.live, sensors.live, stats.live,
// stats.clusterLive, audit.live, rollouts.live, debugLevel.live (the procedures of the same
// names; same inputs). Callbacks may change between renders; the feed is opened again only when
// `path`, `input` or `enabled` change.
import { useEffect, useRef, useState } from "react";
import {
  liveHubFor,
  type LiveFeedEvent,
  type LiveFeedInput,
  type LiveFeedListener,
  type LiveFeedPath,
  type LiveFeedState,
} from "./live-hub";
import { useTRPCClient } from "./trpc";

export type { LiveFeedEvent, LiveFeedInput, LiveFeedPath, LiveFeedState };

export interface LiveFeedOptions<P extends LiveFeedPath> {
  onData: (event: LiveFeedEvent<P>) => void;
  onStarted?: (info: { resumed: boolean }) => void;
  enabled?: boolean;
}

const IDLE: LiveFeedState = { status: "idle", error: null };

/** Follows the live feed `path` with `input` while mounted (and enabled); returns its connection state. */
export function useLiveFeed<P extends LiveFeedPath>(
  path: P,
  input: LiveFeedInput<P>,
  options: LiveFeedOptions<P>,
): LiveFeedState {
  const hub = liveHubFor(useTRPCClient());
  const enabled = options.enabled ?? true;
  const [state, setState] = useState<LiveFeedState>(IDLE);
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  const inputKey = JSON.stringify(input ?? null);
  useEffect(() => {
    if (!enabled) {
      setState(IDLE);
      return;
    }
    const listener: LiveFeedListener<P> = {
      onData: (event) => latest.current.onData(event),
      onStarted: (info) => latest.current.onStarted?.(info),
      onState: setState,
    };
    const feedInput = (inputKey === "null" ? undefined : JSON.parse(inputKey)) as LiveFeedInput<P>;
    return hub.register(path, feedInput, listener);
  }, [hub, path, inputKey, enabled]);
  return state;
}
