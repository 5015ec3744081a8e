"use client";

// One way for every live page to show data that stays current: a query loads it, a tRPC SSE
// subscription streams changes, and a pure reducer merges each change into the cached result.
import { useQuery, useQueryClient, type QueryKey, type UseQueryOptions } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useRef } from "react";

/**
 * What one live event does to the query's data: the merged data (the same object when nothing
 * changed), or `null` when the event cannot be merged (a sensor the list does not know yet needs
 * fields a report does not carry) and the query must be asked again.
 */
export type LiveReducer<TData, TEvent> = (data: TData, event: TEvent) => TData | null;

type SubscriptionOptions<TEvent, TError> = Parameters<typeof useSubscription<TEvent, TError>>[0];

export interface LiveQueryOptions {
  /**
   * The server replays what a client missed when it reconnects (it yields `tracked()` ids and
   * takes `lastEventId`), so a reconnect needs no refetch. Without it, the query is fetched again
   * after every reconnect: events may have been lost while the stream was down.
   */
  resumes?: boolean;
}

/**
 * The query's data kept current by the subscription's events, merged by `reducer`, and the
 * subscription's connection state (`live.status`: "connecting", "pending" once connected,
 * "error"), for the "Live updates connected/interrupted" badge.
 *
 * The stream starts once the query has data, and on its first start the query is fetched once
 * more, so nothing recorded between the query's read and the stream's start falls through.
 */
export function useLiveQuery<TData, TEvent, TQueryError, TLiveError, TQueryKey extends QueryKey>(
  query: UseQueryOptions<TData, TQueryError, TData, TQueryKey> & { queryKey: TQueryKey },
  subscription: SubscriptionOptions<TEvent, TLiveError>,
  reducer: LiveReducer<TData, TEvent>,
  options: LiveQueryOptions = {},
) {
  const queryClient = useQueryClient();
  const result = useQuery(query);
  const enabled = (subscription.enabled ?? true) && result.data !== undefined;

  // Callbacks run after a later render may have changed the key (a filter) or the reducer.
  const latest = useRef({ queryKey: query.queryKey, reducer });
  useEffect(() => {
    latest.current = { queryKey: query.queryKey, reducer };
  });
  // Starts of the current stream: the first follows the query's load, later ones are reconnects.
  // A stream resumes from the last event it received, so only once it has received one.
  const stream = useRef({ starts: 0, received: false });
  const streamKey = JSON.stringify(subscription.queryKey);
  useEffect(() => {
    stream.current = { starts: 0, received: false };
  }, [enabled, streamKey]);

  const refetch = () =>
    void queryClient.invalidateQueries({ queryKey: latest.current.queryKey, exact: true });

  const live = useSubscription({
    ...subscription,
    enabled,
    onStarted: () => {
      stream.current.starts += 1;
      if (stream.current.starts === 1 || !options.resumes || !stream.current.received) refetch();
    },
    onData: (event) => {
      stream.current.received = true;
      const { queryKey, reducer: merge } = latest.current;
      const cached = queryClient.getQueryData<TData>(queryKey);
      if (cached === undefined) return;
      // tRPC types the event as "what TEvent yields if it is an async iterable": TEvent itself here.
      const merged = merge(cached, event as TEvent);
      if (merged === null) refetch();
      else if (merged !== cached) queryClient.setQueryData<TData>(queryKey, merged);
    },
  });

  return { query: result, live };
}
