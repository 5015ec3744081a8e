"use client";

import {
  Alert,
  Anchor,
  Breadcrumbs,
  Button,
  Code,
  EmptyState,
  Group,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { IconCalendarEvent, IconPlugConnected, IconStack2 } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRef, useState } from "react";
import { useCurrentUser } from "@/components/current-user";
import { LiveBadge } from "@/components/live-badge";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { roleAtLeast } from "@/lib/roles";
import { SERVER_RENDERED_FRESH_MS, useTRPC } from "@/lib/trpc";
import { useLiveFeed } from "@/lib/use-live-feed";
import { ConnectClusterModal } from "../clusters/connect-cluster-modal";
import { ConnectionActions, ConnectionStatus } from "../clusters/connection-cell";
import { StaleMark, StateBar, StateCounts } from "../fleet/coverage-badges";
import { sumRates } from "../fleet/live-rates";
import { useLiveRates } from "../fleet/use-live-rates";
import { formatRate } from "../sensor-detail/units";
import { KubeEventsList } from "../sensor-detail/kube-events-list";
import type { InventoryEvent } from "./apply-node-event";
import { AdoptDaemonSetAction } from "../sensor-install/adopt-dialog";
import { SensorInstallSection } from "../sensor-install/sensor-install-section";
import { DebugLevelCard } from "../debug-level/debug-level-card";
import { DaemonSetStatusTable } from "./daemonset-status";
import { RemoveClusterAction } from "./remove-cluster-action";
import { NodesTable } from "./nodes-table";

export function ClusterDetailPage({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const canManage = roleAtLeast(user.role, "operator");
  // The cluster, the coverage and the first nodes come with the page's HTML
  // (app/(dashboard)/clusters/[id]/page.tsx); the live stream reads the coverage again when it starts.
  const cluster = useQuery(
    trpc.clusters.get.queryOptions({ id: clusterId }, { staleTime: SERVER_RENDERED_FRESH_MS }),
  );
  const coverage = useQuery(
    trpc.inventory.coverage.queryOptions({ clusterId }, { staleTime: SERVER_RENDERED_FRESH_MS }),
  );
  const { rates, nowSeconds } = useLiveRates(clusterId);
  const [connecting, setConnecting] = useState(false);
  // One stream for the page: cluster messages refresh the status and summary; the table merges node messages.
  // Handed to the table as they arrive (several may arrive in one render: none may be lost).
  const nodeEvents = useRef(new Set<(event: InventoryEvent) => void>());
  const emit = (event: InventoryEvent) => {
    for (const listener of nodeEvents.current) listener(event);
  };
  const live = useLiveFeed(
    "inventory.live",
    { clusterId },
    {
      enabled: cluster.isSuccess,
      // The feed does not replay: each start (the first, and after a reconnect) reads everything again.
      onStarted: () => {
        void queryClient.invalidateQueries({ queryKey: trpc.inventory.coverage.queryKey() });
        emit({ type: "resync", clusterId });
      },
      onData: (event) => {
        if (event.type === "cluster" || event.type === "cluster-removed") {
          void queryClient.invalidateQueries({ queryKey: trpc.inventory.coverage.queryKey() });
          void queryClient.invalidateQueries({ queryKey: trpc.clusters.get.queryKey({ id: clusterId }) });
        }
        emit(event);
      },
    },
  );

  const title = cluster.data?.displayName ?? clusterId;
  const header = (
    <>
      <Breadcrumbs mb="xs">
        <Anchor component={Link} href="/fleet" size="sm">
          Fleet
        </Anchor>
        <Text size="sm">{clusterId}</Text>
      </Breadcrumbs>
      <PageHeader
        title={title}
        description="Connection, sensor DaemonSets and every node's coverage, live."
        actions={
          <>
            {canManage && cluster.data ? (
              <ConnectionActions
                clusterId={clusterId}
                connection={cluster.data.connection}
                onConnect={() => setConnecting(true)}
              />
            ) : null}
            {cluster.data ? (
              <RemoveClusterAction clusterId={clusterId} displayName={cluster.data.displayName} />
            ) : null}
            <LiveBadge live={live} connectedHint="Nodes and coverage follow the cluster's changes." />
          </>
        }
      />
    </>
  );
  if (cluster.isPending) {
    return (
      <>
        {header}
        <LoadingBlock label="Loading the cluster…" />
      </>
    );
  }
  if (cluster.isError) {
    return (
      <>
        {header}
        <QueryError
          title="Could not load the cluster"
          error={cluster.error}
          onRetry={() => void cluster.refetch()}
        />
      </>
    );
  }

  const record = coverage.data?.clusters.find((c) => c.clusterId === clusterId);
  const clusterRates = sumRates(rates, clusterId, nowSeconds);
  const connection = cluster.data.connection;
  const daemonSets = Object.entries(record?.daemonSets ?? {}).sort(([a], [b]) => a.localeCompare(b));

  return (
    <>
      {header}
      <SimpleGrid cols={{ base: 1, md: 3 }} spacing="md">
        <Paper withBorder p="md" radius="md" role="group" aria-label="Connection">
          <Text size="xs" c="dimmed" tt="uppercase" fw={700} mb={6}>
            Connection
          </Text>
          <ConnectionStatus connection={connection} />
          {!connection ? (
            <Stack gap="xs" mt="xs" align="flex-start">
              <Text size="sm">
                Connect the cluster to Kubernetes with a kubeconfig so Tapfleet can watch its nodes, pods and
                sensor DaemonSets.
              </Text>
              {canManage ? (
                <Button leftSection={<IconPlugConnected size={16} />} onClick={() => setConnecting(true)}>
                  Connect to Kubernetes
                </Button>
              ) : (
                <Text size="sm" c="dimmed">
                  Ask an operator or an admin to connect it to Kubernetes.
                </Text>
              )}
            </Stack>
          ) : null}
        </Paper>
        <Paper withBorder p="md" radius="md" role="group" aria-label="Coverage">
          <Group justify="space-between">
            <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
              Coverage
            </Text>
            {record && (record.stale || record.summary.stale) ? <StaleMark since={record.syncedAt} /> : null}
          </Group>
          <Text fz={28} fw={700} lh={1.2}>
            {record?.summary.coveragePercent == null ? "—" : `${record.summary.coveragePercent.toFixed(1)} %`}
          </Text>
          <Text size="sm" c="dimmed" mb="xs">
            {record
              ? `${record.summary.covered} of ${record.summary.targeted} targeted nodes covered`
              : "Not watched yet"}
          </Text>
          {record ? (
            <Stack gap="xs">
              <StateBar counts={record.summary.counts} size="sm" />
              <StateCounts counts={record.summary.counts} />
            </Stack>
          ) : null}
        </Paper>
        <Paper withBorder p="md" radius="md" role="group" aria-label="Capture">
          <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
            Capture
          </Text>
          <Text fz={28} fw={700} lh={1.2}>
            {formatRate(clusterRates?.packetsPerSecond, "pkt/s")}
          </Text>
          <Text size="sm" c="dimmed">
            {clusterRates
              ? `${formatRate(clusterRates.bitsPerSecond, "bit/s")} · ${
                  clusterRates.dropPercent === null ? "–" : clusterRates.dropPercent.toFixed(2)
                } % dropped`
              : "Rates appear with the sensors' next reports."}
          </Text>
        </Paper>
      </SimpleGrid>
      <SensorInstallSection clusterId={clusterId} />
      {connection ? <DebugLevelCard clusterId={clusterId} canManage={canManage} /> : null}

      <Title order={2} size="h4" mt="xl" mb="sm">
        Sensor DaemonSets
      </Title>
      {!record ? (
        <Text size="sm" c="dimmed">
          {connection ? "Waiting for the first sync of the cluster." : "Shown once the cluster is connected."}
        </Text>
      ) : daemonSets.length === 0 ? (
        <Alert
          icon={<IconStack2 size={18} />}
          color="orange"
          title="No sensor DaemonSet found in this cluster"
        >
          Tapfleet watches DaemonSets labelled <Code>app.kubernetes.io/part-of=tapfleet</Code>, or whose pod
          template has a container with the <Code>VSENSOR_HOSTNAME</Code> environment variable. Deploy the
          sensor manifests (they set the label) or add the label to your sensor DaemonSet.
        </Alert>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
          {daemonSets.map(([key, summary]) => (
            <Paper key={key} withBorder p="md" radius="md" role="group" aria-label={`DaemonSet ${key}`}>
              <Group justify="space-between" mb={4}>
                <Text fw={600} ff="monospace" size="sm">
                  {key}
                </Text>
                <Text size="sm" fw={600}>
                  {summary.coveragePercent === null ? "—" : `${summary.coveragePercent.toFixed(1)} %`}
                </Text>
              </Group>
              <DaemonSetStatusTable
                status={record.daemonSetStatus[key]}
                stale={record.stale || record.summary.stale}
              />
              {/* The action is read after the page loads (it asks the cluster): its place is kept, an
                  "xs" button high, so that nothing below moves when it shows. */}
              <Group justify="flex-end" mt="xs" mih={30}>
                <AdoptDaemonSetAction
                  clusterId={clusterId}
                  namespace={key.slice(0, key.indexOf("/"))}
                  name={key.slice(key.indexOf("/") + 1)}
                />
              </Group>
              <Text size="xs" c="dimmed" mt="sm" mb="xs">
                Coverage: targeted {summary.targeted} · covered {summary.covered} · nodes{" "}
                {Object.values(summary.counts).reduce((a, b) => a + b, 0)}
              </Text>
              <StateBar counts={summary.counts} size="sm" />
              <Group mt="xs">
                <StateCounts counts={summary.counts} />
              </Group>
            </Paper>
          ))}
        </SimpleGrid>
      )}

      <Title order={2} size="h4" mt="xl" mb="sm">
        Nodes
      </Title>
      <NodesTable clusterId={clusterId} rates={rates} nowSeconds={nowSeconds} events={nodeEvents.current} />

      <Title order={2} size="h4" mt="xl" mb="sm">
        Events
      </Title>
      {daemonSets.length === 0 ? (
        <Paper withBorder p="lg" radius="md">
          <EmptyState
            icon={<IconCalendarEvent />}
            variant="light"
            title="No sensor DaemonSet to show events for"
            description="The Kubernetes events of each sensor DaemonSet appear here once the cluster is connected and a sensor DaemonSet is found. A node's own events are on its sensor page."
          />
        </Paper>
      ) : (
        daemonSets.map(([key]) => {
          const [namespace = "", name = ""] = key.split("/");
          return (
            <Paper key={key} withBorder p="md" radius="md" mb="md">
              <Text fw={600} ff="monospace" size="sm" mb="xs">
                DaemonSet {key}
              </Text>
              <KubeEventsList clusterId={clusterId} target={{ kind: "DaemonSet", namespace, name }} />
            </Paper>
          );
        })
      )}

      {canManage ? (
        <ConnectClusterModal
          clusterId={connecting ? clusterId : null}
          editing={connection}
          onClose={() => setConnecting(false)}
        />
      ) : null}
    </>
  );
}
