"use client";

import {
  Alert,
  Anchor,
  Box,
  Button,
  Group,
  Loader,
  MultiSelect,
  Paper,
  Select,
  Stack,
  Text,
  TextInput,
  Tooltip,
  UnstyledButton,
} from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { IconArrowDown, IconArrowUp, IconArrowsSort, IconSearch } from "@tabler/icons-react";
import { useInfiniteQuery, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useRef, useState, type MouseEvent } from "react";
import { DateTime } from "@/components/date-time";
import { QueryError } from "@/components/status-blocks";
import { SERVER_RENDERED_FRESH_MS, useTRPC, type RouterOutputs } from "@/lib/trpc";
import { useHydrated } from "@/lib/use-hydrated";
import { CoverageStateBadge, StaleMark } from "../fleet/coverage-badges";
import { COVERAGE_STATE_ORDER, COVERAGE_STATE_STYLES, isCoverageState } from "../fleet/coverage-states";
import { ratesOfPoint, type LiveRatesState } from "../fleet/live-rates";
import { formatRate } from "../sensor-detail/units";
import { applyNodeEvent, type InventoryEvent, type NodeItem } from "./apply-node-event";
import {
  describeSort,
  formatNodeFilters,
  MAX_NODE_SEARCH,
  nextNodesCursor,
  nextSort,
  resolveNodesTableScope,
  type NodeFilters,
  type NodeSort,
} from "./node-filters";
import classes from "./nodes-table.module.css";

type NodesPage = RouterOutputs["inventory"]["fleetNodes"];

const ROW_HEIGHT = 52;

interface Column {
  name: string;
  width: string;
  sort?: NodeSort;
  hint?: string;
}

const RATE_HINT =
  "Live, from the agents' reports as they arrive. Not sortable: no stored column holds a current rate.";

function columnsFor(fleet: boolean): Column[] {
  return [
    { name: "Node", width: "minmax(150px, 1.2fr)", sort: "node", hint: "The node, and its sensor pod" },
    ...(fleet ? [{ name: "Cluster", width: "minmax(100px, 0.8fr)", sort: "cluster" as const }] : []),
    { name: "State", width: "150px", sort: "state", hint: "Problems first" },
    { name: "Since", width: "100px", sort: "since", hint: "When the state began" },
    { name: "Reason", width: "minmax(180px, 2.2fr)" },
    { name: "Packets/s", width: "95px", hint: RATE_HINT },
    { name: "Bits/s", width: "105px", hint: RATE_HINT },
    { name: "Drops", width: "60px", hint: RATE_HINT },
  ];
}

/**
 * The scroller's size before it is measured: the server's render and the browser's first render
 * (hydration) show the same first rows, about a window's worth; the real size takes over at once.
 */
const INITIAL_RECT = { width: 1200, height: 600 };

/** Where a row leads: its sensor's page once the agent reported, else the node's page in its cluster. */
export function nodeHref(node: Pick<NodeItem, "clusterId" | "nodeName" | "sensor">): string {
  return node.sensor
    ? `/sensors/${node.sensor.id}`
    : `/clusters/${encodeURIComponent(node.clusterId)}/nodes/${encodeURIComponent(node.nodeName)}`;
}

/**
 * The nodes table of a cluster's page (`clusterId`) or of the fleet's Nodes page (without one,
 * filtered by the clusters in the URL): filters, search and sort in the URL, read from the
 * server a page at a time by keyset, rendered virtually, merged with the page's live events.
 */
export function NodesTable({
  clusterId,
  clusters,
  rates,
  nowSeconds,
  events,
}: {
  /** The cluster page's cluster; without it the table shows the fleet, filterable by cluster. */
  clusterId?: string;
  /** On the fleet's table: the clusters Tapfleet knows, for the filter (id and name). */
  clusters?: { id: string; label: string }[];
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
  const fleet = clusterId === undefined;
  const { parsed, unknownClusters, requested, scope, input } = resolveNodesTableScope({
    params: new URLSearchParams(params.toString()),
    clusterId,
    knownClusterIds: clusters?.map((c) => c.id),
  });
  const filters: NodeFilters = { ...parsed, clusters: scope };
  const [searchText, setSearchText] = useState(parsed.search ?? "");

  const setFilters = (next: Partial<NodeFilters>) => {
    const merged: NodeFilters = { ...parsed, ...next };
    if (!fleet) merged.clusters = undefined;
    // The browser's history only (Next keeps useSearchParams in step): the page is rendered on the
    // server, and a router navigation would render it there again for what the table reads itself.
    window.history.replaceState(
      null,
      "",
      `${pathname}${formatNodeFilters(merged, new URLSearchParams(params.toString()))}`,
    );
  };
  const setSearchLater = useDebouncedCallback((value: string) => setFilters({ search: value }), 250);

  const nodes = useInfiniteQuery(
    trpc.inventory.fleetNodes.infiniteQueryOptions(input, {
      getNextPageParam: nextNodesCursor,
      // The first page came with the page's HTML (see the page's server part).
      staleTime: SERVER_RENDERED_FRESH_MS,
      // Until the fleet's clusters are known, a link's cluster filter cannot be checked.
      enabled: !fleet || clusters !== undefined || parsed.clusters === undefined,
    }),
  );
  const queryKey = trpc.inventory.fleetNodes.infiniteQueryKey(input);

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
      const merged = applyNodeEvent(cached, event, current);
      if (merged === null) void queryClient.invalidateQueries({ queryKey: key });
      else if (merged !== cached) queryClient.setQueryData<InfiniteData<NodesPage>>(key, merged);
    };
    events.add(listener);
    return () => {
      events.delete(listener);
    };
  }, [events, queryClient]);

  const items = useMemo(() => nodes.data?.pages.flatMap((page) => page.items) ?? [], [nodes.data]);
  const scroller = useRef<HTMLDivElement>(null);
  const hydrated = useHydrated();
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    // Rows beyond the window, ready for a scroll: not in the page's HTML (the server's render and
    // the hydration of it show the window's rows only, half the markup), from the render after.
    overscan: hydrated ? 12 : 0,
    initialRect: INITIAL_RECT,
  });
  const virtualItems = virtualizer.getVirtualItems();
  const lastIndex = virtualItems.at(-1)?.index ?? -1;
  useEffect(() => {
    if (lastIndex >= items.length - 20 && nodes.hasNextPage && !nodes.isFetchingNextPage)
      void nodes.fetchNextPage();
  }, [lastIndex, items.length, nodes]);
  // A new sort or filter starts at the top.
  const sortKey = `${parsed.sort}/${parsed.order}/${filters.state}/${filters.search}/${scope?.join(",")}`;
  useEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
  }, [sortKey]);

  const columns = columnsFor(fleet);
  const template = columns.map((c) => c.width).join(" ");
  const clusterLabels = new Map(clusters?.map((c) => [c.id, c.label]));
  const filtered = Boolean(filters.state || filters.search || (fleet && scope));
  const stateOptions = COVERAGE_STATE_ORDER.map((state) => ({
    value: state,
    label: COVERAGE_STATE_STYLES[state].label,
  }));

  return (
    <Paper withBorder radius="md">
      <Group p="md" gap="sm" align="flex-end">
        {fleet && clusters ? (
          <MultiSelect
            label="Clusters"
            placeholder={scope ? undefined : "Every cluster"}
            data={clusters.map((c) => ({ value: c.id, label: c.label }))}
            value={requested}
            onChange={(value) => setFilters({ clusters: value.length > 0 ? value : undefined })}
            searchable
            clearable
            w={380}
          />
        ) : null}
        <Select
          label="State"
          placeholder="Every state"
          data={stateOptions}
          value={filters.state ?? null}
          onChange={(value) => setFilters({ state: isCoverageState(value) ? value : undefined })}
          clearable
          w={200}
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
          w={260}
        />
        <Text size="sm" c="dimmed" ml="auto" aria-live="polite" data-testid="nodes-summary">
          {nodes.isSuccess
            ? `${items.length.toLocaleString()}${nodes.hasNextPage ? "+" : ""} ${
                items.length === 1 ? "row" : "rows"
              }, ${describeSort(parsed.sort, parsed.order)}`
            : null}
        </Text>
      </Group>
      {parsed.invalid.length > 0 || unknownClusters.length > 0 ? (
        <Alert color="orange" mx="md" mb="md" title="Part of this link was left out">
          {[
            ...parsed.invalid.map((p) => `the ${p.name} “${p.value}” does not exist`),
            ...unknownClusters.map((id) => `Tapfleet knows no cluster “${id}”`),
          ].join("; ")}
          . The table shows the rest of what the link asks for.
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
              py={6}
              style={{
                display: "grid",
                gridTemplateColumns: template,
                gap: 12,
                alignItems: "center",
                borderTop: "1px solid var(--mantine-color-default-border)",
                borderBottom: "1px solid var(--mantine-color-default-border)",
                background: "var(--mantine-color-default-hover)",
              }}
            >
              {columns.map((column) => (
                <HeaderCell
                  key={column.name}
                  column={column}
                  sort={parsed.sort}
                  order={parsed.order}
                  onSort={(sort) => setFilters(nextSort(parsed, sort))}
                />
              ))}
            </Box>
          </div>
          <div
            ref={scroller}
            role="rowgroup"
            style={{
              // As tall as the rows, up to what the window leaves: the rows scroll inside, virtually.
              height: items.length > 0 ? virtualizer.getTotalSize() + 1 : undefined,
              maxHeight: "max(320px, calc(100vh - 330px))",
              overflow: "auto",
              position: "relative",
            }}
          >
            {nodes.isPending ? (
              <Group justify="center" p="xl">
                <Loader size="sm" />
              </Group>
            ) : items.length === 0 ? (
              <Box p="xl" ta="center">
                <Text c="dimmed" mb="sm">
                  {filtered
                    ? "No node matches these filters."
                    : fleet
                      ? "No nodes yet: they appear once a cluster is connected and synced."
                      : "No nodes yet: they appear once the cluster is connected and synced."}
                </Text>
                {filtered ? (
                  <Button
                    variant="light"
                    size="xs"
                    onClick={() => {
                      setSearchText("");
                      setFilters({ clusters: undefined, state: undefined, search: undefined });
                    }}
                  >
                    Clear the filters
                  </Button>
                ) : null}
              </Box>
            ) : (
              <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
                {virtualItems.map((virtual) => {
                  const node = items[virtual.index]!;
                  return (
                    <NodeRow
                      key={`${node.clusterId}/${node.nodeName}/${node.daemonSet.namespace}/${node.daemonSet.name}`}
                      node={node}
                      fleet={fleet}
                      clusterLabel={clusterLabels.get(node.clusterId) ?? node.clusterId}
                      template={template}
                      index={virtual.index}
                      top={virtual.start}
                      rates={rates}
                      nowSeconds={nowSeconds}
                      onOpen={(href) => router.push(href)}
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

function HeaderCell({
  column,
  sort,
  order,
  onSort,
}: {
  column: Column;
  sort: NodeSort;
  order: "asc" | "desc";
  onSort: (sort: NodeSort) => void;
}) {
  const label = (
    <Text size="sm" fw={700} span>
      {column.name}
    </Text>
  );
  if (!column.sort) {
    return (
      <div role="columnheader">
        {column.hint ? (
          <Tooltip label={column.hint} multiline maw={280} openDelay={300}>
            {label}
          </Tooltip>
        ) : (
          label
        )}
      </div>
    );
  }
  const active = sort === column.sort;
  const Icon = !active ? IconArrowsSort : order === "asc" ? IconArrowUp : IconArrowDown;
  return (
    <div role="columnheader" aria-sort={active ? (order === "asc" ? "ascending" : "descending") : "none"}>
      <UnstyledButton
        onClick={() => onSort(column.sort!)}
        aria-label={`Sort by ${column.name.toLowerCase()}`}
        title={column.hint}
        style={{ display: "inline-flex", alignItems: "center", gap: 4 }}
      >
        {label}
        <Icon
          size={14}
          stroke={2}
          color={active ? "var(--mantine-color-blue-filled)" : "var(--mantine-color-dimmed)"}
        />
      </UnstyledButton>
    </div>
  );
}

/** The Element Timing identifier of the first row's node name. */
export const FIRST_ROW_TIMING = "first-node-row";

function NodeRow({
  node,
  fleet,
  clusterLabel,
  template,
  index,
  top,
  rates,
  nowSeconds,
  onOpen,
}: {
  node: NodeItem;
  fleet: boolean;
  clusterLabel: string;
  template: string;
  index: number;
  top: number;
  rates: LiveRatesState;
  nowSeconds: number;
  onOpen: (href: string) => void;
}) {
  const point = node.sensor ? rates.latest[node.sensor.id] : undefined;
  const current =
    point && nowSeconds - point.timestamp <= 3 * (point.reportIntervalSeconds ?? Math.max(point.seconds, 10))
      ? ratesOfPoint(point)
      : null;
  const href = nodeHref(node);
  const crash = crashSummary(node);
  // The whole row opens the detail page; the node's name is the link keyboards and readers use.
  const open = (event: MouseEvent) => {
    if ((event.target as HTMLElement).closest("a")) return;
    onOpen(href);
  };
  return (
    <Box
      role="row"
      aria-rowindex={index + 2}
      data-node={node.nodeName}
      data-cluster={node.clusterId}
      data-state={node.state}
      px="md"
      onClick={open}
      className={classes.row}
      style={{
        position: "absolute",
        top: 0,
        left: 0,
        right: 0,
        height: ROW_HEIGHT,
        transform: `translateY(${top}px)`,
        display: "grid",
        gridTemplateColumns: template,
        gap: 12,
        alignItems: "center",
        borderBottom: "1px solid var(--mantine-color-default-border)",
        opacity: node.stale ? 0.7 : 1,
        cursor: "pointer",
      }}
    >
      <div role="cell" style={{ minWidth: 0 }}>
        {/* The first row's paint time, for the browser's Element Timing API (web vitals, the inventory bench). */}
        <Anchor
          component={Link}
          href={href}
          size="sm"
          fw={600}
          truncate="end"
          display="block"
          {...(index === 0 ? { elementtiming: FIRST_ROW_TIMING } : {})}
        >
          {node.nodeName}
        </Anchor>
        <Text
          size="xs"
          c="dimmed"
          truncate="end"
          ff="monospace"
          title={`Sensor DaemonSet ${node.daemonSet.namespace}/${node.daemonSet.name}`}
        >
          {node.podName ?? "no pod"}
        </Text>
      </div>
      {fleet ? (
        <div role="cell" style={{ minWidth: 0 }}>
          <Anchor
            component={Link}
            href={`/clusters/${encodeURIComponent(node.clusterId)}`}
            size="sm"
            truncate="end"
            display="block"
          >
            {clusterLabel}
          </Anchor>
        </div>
      ) : null}
      {/* The stale mark under the state: side by side, both would not fit the column. */}
      <Stack role="cell" gap={2} align="flex-start" style={{ minWidth: 0 }}>
        <CoverageStateBadge state={node.state} />
        {node.stale ? <StaleMark since={node.updatedAt} size="xs" /> : null}
      </Stack>
      <Text role="cell" size="sm" c="dimmed">
        <DateTime iso={node.since} relative />
      </Text>
      <Tooltip label={node.reason} multiline maw={480} openDelay={400}>
        {crash ? (
          <div role="cell" style={{ minWidth: 0 }}>
            <Text size="sm" fw={600} truncate="end">
              {crash.headline}
            </Text>
            <Text size="xs" c="dimmed" truncate="end">
              {crash.message ?? node.reason}
            </Text>
          </div>
        ) : node.state === "silent" && typeof node.details?.lastReportAt === "string" ? (
          // The reason is words only; when the agent last reported is data, read in the reader's terms.
          <div role="cell" style={{ minWidth: 0 }}>
            <Text size="sm" truncate="end">
              {node.reason}
            </Text>
            <Text size="xs" c="dimmed" truncate="end">
              Last report <DateTime iso={node.details.lastReportAt} relative />
            </Text>
          </div>
        ) : (
          <Text role="cell" size="sm" lineClamp={2}>
            {node.reason}
          </Text>
        )}
      </Tooltip>
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

/**
 * A crash loop's restart count and last exit, from the rule's details, for a line of its own: the
 * reason names the container and pod first, and a clamped reason would hide them.
 */
function crashSummary(node: NodeItem): { headline: string; message: string | undefined } | null {
  if (node.state !== "crash-looping" || !node.details) return null;
  const { restartCount, lastTerminationReason, lastExitCode, lastTerminationMessage } = node.details;
  if (typeof restartCount !== "number") return null;
  const restarts = `${restartCount} ${restartCount === 1 ? "restart" : "restarts"}`;
  const reason = typeof lastTerminationReason === "string" ? lastTerminationReason : null;
  const code = typeof lastExitCode === "number" ? `exit code ${lastExitCode}` : null;
  const exit = [reason, code].filter(Boolean).join(", ");
  return {
    headline: exit ? `${restarts} · ${exit}` : restarts,
    // A message taken from the log (FallbackToLogsOnError) is its last lines: the last one says most.
    message:
      typeof lastTerminationMessage === "string"
        ? lastTerminationMessage
            .split("\n")
            .map((line) => line.trim())
            .findLast((line) => line !== "")
        : undefined,
  };
}
