"use client";

import { Alert, Anchor, Box, Group, Loader, Paper, Select, Text, TextInput, Tooltip } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { IconSearch } from "@tabler/icons-react";
import { useInfiniteQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import { QueryError } from "@/components/status-blocks";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { CoverageStateBadge, Since, StaleMark } from "../fleet/coverage-badges";
import { COVERAGE_STATE_ORDER, COVERAGE_STATE_STYLES, isCoverageState } from "../fleet/coverage-states";
import { ratesOfPoint, type LiveRatesState } from "../fleet/live-rates";
import { formatRate } from "../sensor-detail/units";
import { applyNodeEvent, type InventoryEvent, type NodeItem } from "./apply-node-event";
import { formatNodeFilters, MAX_NODE_SEARCH, parseNodeFilters } from "./node-filters";

type NodesPage = RouterOutputs["inventory"]["nodes"];

const PAGE_SIZE = 200;
const ROW_HEIGHT = 52;
const COLUMNS = "minmax(180px, 1.2fr) 150px minmax(260px, 2fr) 140px 110px 120px 80px";

export function NodesTable({
  clusterId,
  rates,
  nowSeconds,
  events,
}: {
  clusterId: string;
  rates: LiveRatesState;
  nowSeconds: number;
  /** The page's live inventory events: the table adds its listener. */
  events: Set<(event: InventoryEvent) => void>;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const filters = parseNodeFilters(new URLSearchParams(params.toString()));
  const [searchText, setSearchText] = useState(filters.search ?? "");

  const setFilters = (next: { state?: string | undefined; search?: string | undefined }) => {
    const state = "state" in next ? next.state : filters.state;
    const search = "search" in next ? next.search : filters.search;
    router.replace(
      `${pathname}${formatNodeFilters(
        { state: isCoverageState(state) ? state : undefined, search },
        new URLSearchParams(params.toString()),
      )}`,
      { scroll: false },
    );
  };
  const setSearchLater = useDebouncedCallback((value: string) => setFilters({ search: value }), 250);

  const input = { id: clusterId, state: filters.state, search: filters.search, limit: PAGE_SIZE };
  const nodes = useInfiniteQuery(
    trpc.inventory.nodes.infiniteQueryOptions(input, {
      getNextPageParam: (last) => last.nextCursor ?? undefined,
    }),
  );
  const queryKey = trpc.inventory.nodes.infiniteQueryKey(input);

  // Each live event, merged into the loaded pages (or the pages read again).
  const latest = useRef({ queryKey, filters });
  useEffect(() => {
    latest.current = { queryKey, filters };
  });
  useEffect(() => {
    const listener = (event: InventoryEvent) => {
      const { queryKey: key, filters: current } = latest.current;
      const cached = queryClient.getQueryData<InfiniteData<NodesPage>>(key);
      if (!cached) return;
      const merged = applyNodeEvent(cached, event, current, clusterId);
      if (merged === null) void queryClient.invalidateQueries({ queryKey: key });
      else if (merged !== cached) queryClient.setQueryData<InfiniteData<NodesPage>>(key, merged);
    };
    events.add(listener);
    return () => {
      events.delete(listener);
    };
  }, [events, queryClient, clusterId]);

  const items = useMemo(() => nodes.data?.pages.flatMap((page) => page.items) ?? [], [nodes.data]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const virtualItems = virtualizer.getVirtualItems();
  const lastIndex = virtualItems.at(-1)?.index ?? -1;
  useEffect(() => {
    if (lastIndex >= items.length - 20 && nodes.hasNextPage && !nodes.isFetchingNextPage)
      void nodes.fetchNextPage();
  }, [lastIndex, items.length, nodes]);

  const stateOptions = COVERAGE_STATE_ORDER.map((state) => ({
    value: state,
    label: COVERAGE_STATE_STYLES[state].label,
  }));

  return (
    <Paper withBorder radius="md">
      <Group p="md" gap="sm" align="flex-end">
        <Select
          label="State"
          placeholder="Every state"
          data={stateOptions}
          value={filters.state ?? null}
          onChange={(value) => setFilters({ state: value ?? undefined })}
          clearable
          w={220}
        />
        <TextInput
          label="Search"
          placeholder="Node or pod name"
          leftSection={<IconSearch size={16} />}
          value={searchText}
          maxLength={MAX_NODE_SEARCH}
          onChange={(event) => {
            setSearchText(event.currentTarget.value);
            setSearchLater(event.currentTarget.value);
          }}
          w={300}
        />
        <Text size="sm" c="dimmed" ml="auto" aria-live="polite">
          {nodes.isSuccess
            ? `${items.length}${nodes.hasNextPage ? "+" : ""} ${items.length === 1 ? "row" : "rows"}, by node name`
            : null}
        </Text>
      </Group>
      {filters.invalidState ? (
        <Alert color="orange" mx="md" mb="md">
          The link asks for the state “{filters.invalidState}”, which does not exist; showing every state.
        </Alert>
      ) : null}
      {nodes.isError ? (
        <Box p="md">
          <QueryError
            title="Could not load the nodes"
            error={nodes.error}
            onRetry={() => void nodes.refetch()}
          />
        </Box>
      ) : (
        <div role="table" aria-label="Nodes" aria-rowcount={items.length + 1}>
          <div role="rowgroup">
            <Box
              role="row"
              px="md"
              py={8}
              style={{
                display: "grid",
                gridTemplateColumns: COLUMNS,
                gap: 12,
                borderTop: "1px solid var(--mantine-color-default-border)",
                borderBottom: "1px solid var(--mantine-color-default-border)",
              }}
            >
              {["Node", "State", "Reason", "Sensor DaemonSet", "Packets/s", "Bits/s", "Drops"].map((name) => (
                <Text key={name} role="columnheader" size="sm" fw={700}>
                  {name}
                </Text>
              ))}
            </Box>
          </div>
          <div
            ref={scroller}
            role="rowgroup"
            style={{ maxHeight: 560, overflow: "auto", position: "relative" }}
          >
            {nodes.isPending ? (
              <Group justify="center" p="xl">
                <Loader size="sm" />
              </Group>
            ) : items.length === 0 ? (
              <Text p="xl" ta="center" c="dimmed">
                {filters.state || filters.search
                  ? "No node matches these filters."
                  : "No nodes yet: they appear once the cluster is connected and synced."}
              </Text>
            ) : (
              <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
                {virtualItems.map((virtual) => {
                  const node = items[virtual.index]!;
                  return (
                    <NodeRow
                      key={`${node.nodeName}/${node.daemonSet.namespace}/${node.daemonSet.name}`}
                      node={node}
                      index={virtual.index}
                      top={virtual.start}
                      rates={rates}
                      nowSeconds={nowSeconds}
                    />
                  );
                })}
              </div>
            )}
            {nodes.isFetchingNextPage ? (
              <Group justify="center" p="xs">
                <Loader size="xs" />
              </Group>
            ) : null}
          </div>
        </div>
      )}
    </Paper>
  );
}

function NodeRow({
  node,
  index,
  top,
  rates,
  nowSeconds,
}: {
  node: NodeItem;
  index: number;
  top: number;
  rates: LiveRatesState;
  nowSeconds: number;
}) {
  const point = node.sensor ? rates.latest[node.sensor.id] : undefined;
  const current =
    point && nowSeconds - point.timestamp <= 3 * (point.reportIntervalSeconds ?? Math.max(point.seconds, 10))
      ? ratesOfPoint(point)
      : null;
  return (
    <Box
      role="row"
      aria-rowindex={index + 2}
      data-node={node.nodeName}
      data-state={node.state}
      px="md"
      style={{
        position: "absolute",
        top: 0,
        left: 0,
        right: 0,
        height: ROW_HEIGHT,
        transform: `translateY(${top}px)`,
        display: "grid",
        gridTemplateColumns: COLUMNS,
        gap: 12,
        alignItems: "center",
        borderBottom: "1px solid var(--mantine-color-default-border)",
        opacity: node.stale ? 0.7 : 1,
      }}
    >
      <div role="cell" style={{ minWidth: 0 }}>
        {node.sensor ? (
          <Anchor component={Link} href={`/sensors/${node.sensor.id}`} size="sm" fw={600} truncate="end">
            {node.nodeName}
          </Anchor>
        ) : (
          <Text size="sm" fw={600} truncate="end">
            {node.nodeName}
          </Text>
        )}
        <Text size="xs" c="dimmed" truncate="end" ff="monospace">
          {node.podName ?? "no pod"}
        </Text>
      </div>
      <div role="cell">
        <Group gap={4} wrap="nowrap">
          <CoverageStateBadge state={node.state} />
          {node.stale ? <StaleMark since={node.updatedAt} /> : null}
        </Group>
        <Since iso={node.since} />
      </div>
      <Tooltip label={node.reason} multiline maw={480} openDelay={400}>
        <Text role="cell" size="sm" lineClamp={2}>
          {node.reason}
        </Text>
      </Tooltip>
      <Text role="cell" size="xs" ff="monospace" truncate="end">
        {node.daemonSet.namespace}/{node.daemonSet.name}
      </Text>
      <Text role="cell" size="sm">
        {formatRate(current?.packetsPerSecond, "pkt/s")}
      </Text>
      <Text role="cell" size="sm">
        {formatRate(current?.bitsPerSecond, "bit/s")}
      </Text>
      <Text role="cell" size="sm" c={(current?.dropsPerSecond ?? 0) > 0 ? "orange" : undefined}>
        {current?.dropPercent == null ? "–" : `${current.dropPercent.toFixed(1)} %`}
      </Text>
    </Box>
  );
}
