"use client";

// One way for every live page to show data that stays current: a query loads it, a live feed
// (on the tab's one stream, see use-live-feed.ts) streams changes, and a pure reducer merges each
// change into the cached result.
import { useQuery, useQueryClient, type QueryKey, type UseQueryOptions } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { useLiveFeed, type LiveFeedEvent, type LiveFeedInput, type LiveFeedPath } from "./use-live-feed";

/**
 * What one live event does to the query's data: the merged data (the same object when nothing
 * changed), or `null` when the event cannot be merged (a sensor the list does not know yet needs
 * fields a report does not carry) and the query must be asked again.
 */
export type LiveReducer<TData, TEvent> = (data: TData, event: TEvent) => TData | null;

/** The feed that keeps a query current: its path and input, and whether it runs (default true). */
export interface LiveQueryFeed<P extends LiveFeedPath> {
  path: P;
  input: LiveFeedInput<P>;
  enabled?: boolean;
}

/**
 * The query's data kept current by the feed's events, merged by `reducer`, and the feed's
 * connection state (`live.status`: "connecting", "pending" once connected, "error"), for the
 * "Live updates connected/interrupted" badge.
 *
 * The feed starts once the query has data, and on its first start the query is fetched once
 * more, so nothing recorded between the query's read and the feed's start falls through. After a
 * reconnect the query is fetched again unless the feed resumed from its last event (a feed with
 * ids, such as audit.live, replays what it missed).
 */
export function useLiveQuery<TData, TQueryError, TQueryKey extends QueryKey, P extends LiveFeedPath>(
  query: UseQueryOptions<TData, TQueryError, TData, TQueryKey> & { queryKey: TQueryKey },
  feed: LiveQueryFeed<P>,
  reducer: LiveReducer<TData, LiveFeedEvent<P>>,
) {
  const queryClient = useQueryClient();
  const result = useQuery(query);
  const enabled = (feed.enabled ?? true) && result.data !== undefined;

  // Callbacks run after a later render may have changed the key (a filter) or the reducer.
  const latest = useRef({ queryKey: query.queryKey, reducer });
  useEffect(() => {
    latest.current = { queryKey: query.queryKey, reducer };
  });
  const refetch = () =>
    void queryClient.invalidateQueries({ queryKey: latest.current.queryKey, exact: true });

  const live = useLiveFeed(feed.path, feed.input, {
    enabled,
    onStarted: ({ resumed }) => {
      if (!resumed) refetch();
    },
    onData: (event) => {
      const { queryKey, reducer: merge } = latest.current;
      const cached = queryClient.getQueryData<TData>(queryKey);
      if (cached === undefined) return;
      const merged = merge(cached, event);
      if (merged === null) refetch();
      else if (merged !== cached) {
        queryClient.setQueryData<TData>(queryKey, merged);
        // A read under way may have been answered before this event happened: landing after it, it
        // would put the older data back, and nothing would correct it until the next event (a
        // debug level shown "applying" for its 30 minutes). Read again, after the event; this
        // cancels the read under way. Only for an event that changed something, so a stream of
        // events that change nothing cannot keep a read from finishing.
        if (queryClient.isFetching({ queryKey, exact: true }) > 0) refetch();
      }
    },
  });

  return { query: result, live };
}
