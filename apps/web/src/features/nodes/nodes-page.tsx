"use client";

import { Button, EmptyState, Group, Paper, Text } from "@mantine/core";
import { IconCpu } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useRef } from "react";
import { useCurrentUser } from "@/components/current-user";
import { LiveBadge } from "@/components/live-badge";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { roleAtLeast } from "@/lib/roles";
import { SERVER_RENDERED_FRESH_MS, useTRPC } from "@/lib/trpc";
import { useLiveFeed } from "@/lib/use-live-feed";
import type { InventoryEvent } from "../cluster-detail/apply-node-event";
import { NodesTable } from "../cluster-detail/nodes-table";
import { StaleMark, StateBar, StateCounts } from "../fleet/coverage-badges";
import { problemCount } from "../fleet/coverage-states";
import { StartDemoButton } from "../fleet/demo-controls";
import { useLiveRates } from "../fleet/use-live-rates";

/**
 * Every node of every connected cluster in one table: filter by cluster and state, search, sort
 * by any column the server can sort by, all in the URL; live like the cluster page's table.
 */
export function NodesPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const canManage = roleAtLeast(user.role, "operator");
  const params = useSearchParams();
  // The clusters, the coverage and the table's first nodes come with the page's HTML
  // (app/(dashboard)/nodes/page.tsx); the live stream reads the coverage again when it starts.
  const clusters = useQuery(
    trpc.clusters.list.queryOptions(undefined, { staleTime: SERVER_RENDERED_FRESH_MS }),
  );
  const coverage = useQuery(
    trpc.inventory.coverage.queryOptions(undefined, { staleTime: SERVER_RENDERED_FRESH_MS }),
  );
  const { rates, nowSeconds } = useLiveRates(undefined);
  // One stream for the page: cluster messages refresh the counts; the table merges node messages.
  const nodeEvents = useRef(new Set<(event: InventoryEvent) => void>());
  const emit = (event: InventoryEvent) => {
    for (const listener of nodeEvents.current) listener(event);
  };
  const live = useLiveFeed("inventory.live", undefined, {
    enabled: clusters.isSuccess,
    onStarted: () => {
      void queryClient.invalidateQueries({ queryKey: trpc.inventory.coverage.queryKey() });
      for (const cluster of clusters.data?.items ?? []) emit({ type: "resync", clusterId: cluster.id });
    },
    onData: (event) => {
      if (event.type === "cluster" || event.type === "cluster-removed")
        void queryClient.invalidateQueries({ queryKey: trpc.inventory.coverage.queryKey() });
      emit(event);
    },
  });

  const header = (
    <PageHeader
      title="Nodes"
      description="Every node of every connected cluster with its sensor's coverage, live. Filter by cluster and state, search, and sort by a column's header; the address keeps it all, to share."
      actions={<LiveBadge live={live} connectedHint="Nodes and coverage follow the clusters' changes." />}
    />
  );
  if (clusters.isPending) {
    return (
      <>
        {header}
        <LoadingBlock label="Loading the clusters…" />
      </>
    );
  }
  if (clusters.isError) {
    return (
      <>
        {header}
        <QueryError
          title="Could not load the clusters"
          error={clusters.error}
          onRetry={() => void clusters.refetch()}
        />
      </>
    );
  }

  const connected = clusters.data.items.filter((cluster) => cluster.connection !== null);
  if (connected.length === 0) {
    return (
      <>
        {header}
        <Paper withBorder p="xl" radius="lg">
          <EmptyState
            icon={<IconCpu />}
            variant="light"
            title={
              clusters.data.items.length === 0 ? "No clusters yet" : "No cluster is connected to Kubernetes"
            }
            description="Tapfleet lists a cluster's nodes once the cluster is connected to Kubernetes with a kubeconfig: each node appears here with its sensor's state."
          >
            <Text size="sm" c="dimmed" ta="center" maw={560}>
              {canManage
                ? `${clusters.data.items.length === 0 ? "Register a cluster, then connect it to Kubernetes" : "Connect a cluster to Kubernetes"} on the Clusters page, or start the demo: two simulated clusters with real agents.`
                : "Ask an operator or an admin to connect a cluster to Kubernetes."}
            </Text>
            <EmptyState.Actions>
              <Button component={Link} href="/clusters" variant="light">
                {!canManage
                  ? "Go to Clusters"
                  : clusters.data.items.length === 0
                    ? "Register a cluster"
                    : "Connect a cluster to Kubernetes"}
              </Button>
              <StartDemoButton />
            </EmptyState.Actions>
          </EmptyState>
        </Paper>
      </>
    );
  }

  // The counts of the clusters shown (every one, or those the URL names), from the clusters' summaries.
  const chosen = new Set(params.getAll("cluster"));
  const shown = (coverage.data?.clusters ?? []).filter((c) => chosen.size === 0 || chosen.has(c.clusterId));
  const counts: Record<string, number> = {};
  for (const cluster of shown)
    for (const [state, count] of Object.entries(cluster.summary.counts))
      counts[state] = (counts[state] ?? 0) + count;
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
  const stale = shown.some((c) => c.stale || c.summary.stale);

  return (
    <>
      {header}
      {coverage.data ? (
        <Paper withBorder p="md" radius="md" mb="md" role="group" aria-label="Nodes by state">
          <Group justify="space-between" mb="xs" wrap="nowrap">
            <Text size="sm">
              <Text span fw={700}>
                {total.toLocaleString()}
              </Text>{" "}
              node × sensor DaemonSet {total === 1 ? "pair" : "pairs"} in {shown.length}{" "}
              {shown.length === 1 ? "cluster" : "clusters"},{" "}
              <Text span fw={700} c={problemCount(counts) > 0 ? "red" : undefined}>
                {problemCount(counts).toLocaleString()}
              </Text>{" "}
              with a problem
            </Text>
            {stale ? <StaleMark /> : null}
          </Group>
          <StateBar counts={counts} size="sm" />
          <Group mt="xs">
            <StateCounts counts={counts} />
          </Group>
        </Paper>
      ) : null}
      <NodesTable
        clusters={clusters.data.items.map((cluster) => ({
          id: cluster.id,
          label: cluster.displayName ?? cluster.id,
        }))}
        rates={rates}
        nowSeconds={nowSeconds}
        events={nodeEvents.current}
      />
    </>
  );
}
