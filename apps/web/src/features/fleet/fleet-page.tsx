"use client";

import {
  Anchor,
  Button,
  Code,
  EmptyState,
  Group,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  UnstyledButton,
} from "@mantine/core";
import { IconChevronDown, IconChevronUp, IconRadar, IconSelector } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useCurrentUser } from "@/components/current-user";
import { LiveBadge } from "@/components/live-badge";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { useLiveQuery } from "@/lib/use-live-query";
import { ConnectClusterModal } from "../clusters/connect-cluster-modal";
import { ConnectionStatus } from "../clusters/connection-cell";
import { isSilent, useSilenceClock } from "../sensors/reporting";
import { describeSensorsStat } from "./sensors-stat";
import { useLiveSensors } from "../sensors/use-live-sensors";
import { TimeSeriesChart } from "../sensor-detail/time-series-chart";
import { formatRate } from "../sensor-detail/units";
import { StaleMark, StateBar, StateCounts } from "./coverage-badges";
import { DemoNotice, StartDemoButton } from "./demo-controls";
import { problemCount } from "./coverage-states";
import { sumRates, type LiveRatesState, type Rates } from "./live-rates";
import { useLiveRates } from "./use-live-rates";

type Coverage = RouterOutputs["inventory"]["coverage"];
type ClusterCoverage = Coverage["clusters"][number];
type Cluster = RouterOutputs["clusters"]["list"]["items"][number];

/** A summary of the fleet's coverage changes with every cluster message: read the totals again. */
const refetchOnClusterChange = (data: Coverage, event: { type: string }) =>
  event.type === "cluster" || event.type === "cluster-removed" ? null : data;

interface Row {
  cluster: Cluster;
  coverage: ClusterCoverage | undefined;
  rates: Rates | null;
  problems: number;
}

type SortKey = "problems" | "name" | "coverage" | "packets" | "drops";

/** Problems first: not connected or unreachable, then most nodes in trouble, then lowest coverage. */
function rank(row: Row): number {
  if (!row.cluster.connection || row.cluster.connection.state !== "reachable") return 0;
  return 1;
}

function compareRows(key: SortKey, a: Row, b: Row): number {
  switch (key) {
    case "name":
      return a.cluster.id.localeCompare(b.cluster.id);
    case "coverage":
      return (a.coverage?.summary.coveragePercent ?? -1) - (b.coverage?.summary.coveragePercent ?? -1);
    case "packets":
      return (a.rates?.packetsPerSecond ?? -1) - (b.rates?.packetsPerSecond ?? -1);
    case "drops":
      return (a.rates?.dropPercent ?? -1) - (b.rates?.dropPercent ?? -1);
    case "problems":
      return (
        rank(a) - rank(b) ||
        b.problems - a.problems ||
        (a.coverage?.summary.coveragePercent ?? 101) - (b.coverage?.summary.coveragePercent ?? 101) ||
        a.cluster.id.localeCompare(b.cluster.id)
      );
  }
}

export function FleetPage() {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const canManage = roleAtLeast(user.role, "operator");
  const clusters = useQuery(trpc.clusters.list.queryOptions());
  const { query: coverage, live } = useLiveQuery(
    trpc.inventory.coverage.queryOptions(),
    { path: "inventory.live", input: undefined },
    refetchOnClusterChange,
  );
  // Each cluster message reads the coverage again; the connections (reachable or not, version, node
  // count) come with the cluster list: read it with it, or the Connection column would show the
  // state of the page's load.
  const queryClient = useQueryClient();
  const coverageReadAt = useRef(0);
  useEffect(() => {
    const first = coverageReadAt.current === 0;
    coverageReadAt.current = coverage.dataUpdatedAt;
    if (!first && coverage.dataUpdatedAt > 0)
      void queryClient.invalidateQueries({ queryKey: trpc.clusters.list.queryKey() });
  }, [coverage.dataUpdatedAt, queryClient, trpc]);
  // The latest stored rates load with the page, so its figures are there from the first render.
  const { rates, nowSeconds, loaded: ratesLoaded } = useLiveRates(undefined);
  // Agents judged by their reports (the server's rule), whether or not their cluster is connected.
  const { sensors } = useLiveSensors(undefined);
  const sensorItems = sensors.data?.items ?? [];
  const silenceNow = useSilenceClock(sensorItems.map((sensor) => sensor.reporting));
  const silentSensors = sensorItems.filter((sensor) => isSilent(sensor.reporting, silenceNow)).length;
  const [connectTarget, setConnectTarget] = useState<Cluster | null>(null);

  const header = (
    <PageHeader
      title="Fleet"
      description="Every cluster's sensor coverage and capture rates, problems first."
      actions={
        <LiveBadge
          live={live}
          connectedHint="Coverage follows the clusters' changes and rates follow each report."
        />
      }
    />
  );
  if (clusters.isPending || coverage.isPending || !ratesLoaded) {
    return (
      <>
        {header}
        <LoadingBlock label="Loading the fleet…" />
      </>
    );
  }
  if (clusters.isError || coverage.isError) {
    return (
      <>
        {header}
        <QueryError
          title="Could not load the fleet"
          error={clusters.error ?? coverage.error}
          onRetry={() => {
            void clusters.refetch();
            void coverage.refetch();
          }}
        />
      </>
    );
  }

  if (clusters.data.items.length === 0) {
    return (
      <>
        {header}
        <Paper withBorder p="xl" radius="lg">
          <EmptyState
            icon={<IconRadar />}
            variant="light"
            title="No clusters yet"
            description="This overview shows every cluster with its sensor coverage, its sensors by state and the traffic they capture and drop."
          >
            <Text size="sm" c="dimmed" ta="center" maw={560}>
              {canManage
                ? "Register a cluster, then connect it to Kubernetes with a kubeconfig so Tapfleet can watch its nodes and sensor DaemonSets."
                : "Ask an operator or an admin to register a cluster and connect it to Kubernetes."}
            </Text>
            <EmptyState.Actions>
              <Button component={Link} href="/clusters" variant="light">
                {canManage ? "Register a cluster" : "Go to Clusters"}
              </Button>
              <StartDemoButton />
            </EmptyState.Actions>
          </EmptyState>
        </Paper>
      </>
    );
  }

  const byId = new Map(coverage.data.clusters.map((c) => [c.clusterId, c]));
  const fleet = coverage.data.fleet;
  const sensorsStat = describeSensorsStat({
    reported: sensorItems.length,
    silentSensors,
    silentNodes: fleet.counts.silent ?? 0,
  });
  const fleetRates = sumRates(rates, undefined, nowSeconds);
  const rows: Row[] = clusters.data.items.map((cluster) => {
    const clusterCoverage = byId.get(cluster.id);
    return {
      cluster,
      coverage: clusterCoverage,
      rates: sumRates(rates, cluster.id, nowSeconds),
      problems: clusterCoverage ? problemCount(clusterCoverage.summary.counts) : 0,
    };
  });
  const connected = clusters.data.items.filter((c) => c.connection?.state === "reachable").length;

  return (
    <>
      {header}
      <DemoNotice />
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 5 }} spacing="md">
        <Stat
          label="Coverage"
          value={fleet.coveragePercent === null ? "–" : `${fleet.coveragePercent.toFixed(1)} %`}
          detail={
            <>
              {fleet.covered} of {fleet.targeted} targeted nodes covered {fleet.stale ? <StaleMark /> : null}
            </>
          }
          attention={fleet.coveragePercent !== null && fleet.coveragePercent < 100}
        >
          <StateBar counts={fleet.counts} size="sm" />
        </Stat>
        <Stat
          label="Clusters"
          value={String(clusters.data.items.length)}
          detail={
            connected === clusters.data.items.length
              ? "all connected and reachable"
              : `${clusters.data.items.length - connected} not connected or unreachable`
          }
          attention={connected < clusters.data.items.length}
        >
          <StateCounts counts={fleet.counts} />
        </Stat>
        <Stat
          label="Sensors"
          value={String(sensorItems.length)}
          detail={sensorsStat.detail}
          attention={sensorsStat.attention}
        />
        <Stat
          label="Packets/s"
          value={formatRate(fleetRates?.packetsPerSecond, "pkt/s")}
          detail={
            fleetRates ? `${formatRate(fleetRates.bitsPerSecond, "bit/s")} captured` : "waiting for reports"
          }
        >
          {fleetRates ? (
            <Sparkline label="Fleet packets per second" rates={rates} clusterId="" height={36} />
          ) : null}
        </Stat>
        <Stat
          label="Drops"
          value={fleetRates?.dropPercent == null ? "–" : `${fleetRates.dropPercent.toFixed(2)} %`}
          detail={
            fleetRates ? `${formatRate(fleetRates.dropsPerSecond, "pkt/s")} dropped` : "waiting for reports"
          }
          attention={(fleetRates?.dropsPerSecond ?? 0) > 0}
        />
      </SimpleGrid>
      <ClustersCoverageTable rows={rows} rates={rates} canManage={canManage} onConnect={setConnectTarget} />
      {canManage ? (
        <ConnectClusterModal
          clusterId={connectTarget?.id ?? null}
          editing={connectTarget?.connection}
          onClose={() => setConnectTarget(null)}
        />
      ) : null}
    </>
  );
}

function ClustersCoverageTable({
  rows,
  rates,
  canManage,
  onConnect,
}: {
  rows: Row[];
  rates: LiveRatesState;
  canManage: boolean;
  onConnect: (cluster: Cluster) => void;
}) {
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({
    key: "problems",
    descending: false,
  });
  const sorted = useMemo(() => {
    const list = [...rows].sort((a, b) => compareRows(sort.key, a, b));
    return sort.descending ? list.reverse() : list;
  }, [rows, sort]);
  const header = (key: SortKey, label: string) => (
    <Table.Th aria-sort={sort.key === key ? (sort.descending ? "descending" : "ascending") : undefined}>
      <UnstyledButton
        onClick={() => setSort((s) => ({ key, descending: s.key === key ? !s.descending : key !== "name" }))}
      >
        <Group gap={4} wrap="nowrap">
          <Text size="sm" fw={700}>
            {label}
          </Text>
          {sort.key === key ? (
            sort.descending ? (
              <IconChevronDown size={14} />
            ) : (
              <IconChevronUp size={14} />
            )
          ) : (
            <IconSelector size={14} />
          )}
        </Group>
      </UnstyledButton>
    </Table.Th>
  );

  return (
    <Paper withBorder radius="md" mt="lg">
      <Group justify="space-between" px="md" pt="md">
        <Text fw={600}>Clusters</Text>
        <Button
          size="compact-sm"
          variant="subtle"
          onClick={() => setSort({ key: "problems", descending: false })}
          disabled={sort.key === "problems" && !sort.descending}
        >
          Problems first
        </Button>
      </Group>
      <Table.ScrollContainer minWidth={1100}>
        <Table aria-label="Clusters by coverage" verticalSpacing="sm" highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              {header("name", "Cluster")}
              <Table.Th>Connection</Table.Th>
              {header("coverage", "Coverage")}
              <Table.Th>Sensors by state</Table.Th>
              {header("packets", "Packets/s")}
              <Table.Th>Bits/s</Table.Th>
              {header("drops", "Drops")}
              <Table.Th w={140}>Last minutes</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {sorted.map((row) => (
              <ClusterCoverageRow
                key={row.cluster.id}
                row={row}
                rates={rates}
                canManage={canManage}
                onConnect={() => onConnect(row.cluster)}
              />
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}

function ClusterCoverageRow({
  row,
  rates,
  canManage,
  onConnect,
}: {
  row: Row;
  rates: LiveRatesState;
  canManage: boolean;
  onConnect: () => void;
}) {
  const { cluster, coverage } = row;
  const href = `/clusters/${encodeURIComponent(cluster.id)}`;
  const noDaemonSet = coverage && Object.keys(coverage.daemonSets).length === 0 && !coverage.stale;
  return (
    <Table.Tr data-cluster={cluster.id}>
      <Table.Td>
        <Anchor component={Link} href={href} fw={600} size="sm">
          {cluster.displayName ?? cluster.id}
        </Anchor>
        {cluster.displayName ? (
          <Text size="xs" c="dimmed" ff="monospace">
            {cluster.id}
          </Text>
        ) : null}
      </Table.Td>
      <Table.Td>
        {cluster.connection ? (
          <ConnectionStatus connection={cluster.connection} compact />
        ) : (
          <Stack gap={4} align="flex-start">
            <Text size="sm" c="dimmed">
              Not connected: coverage unknown
            </Text>
            {canManage ? (
              <Button size="compact-xs" variant="light" onClick={onConnect}>
                Connect
              </Button>
            ) : null}
          </Stack>
        )}
      </Table.Td>
      <Table.Td miw={160}>
        {coverage ? (
          <Stack gap={4}>
            <Group gap={6}>
              <Text size="sm" fw={600}>
                {coverage.summary.coveragePercent === null
                  ? "–"
                  : `${coverage.summary.coveragePercent.toFixed(1)} %`}
              </Text>
              {coverage.summary.stale || coverage.stale ? <StaleMark since={coverage.syncedAt} /> : null}
            </Group>
            <StateBar counts={coverage.summary.counts} size="sm" />
            <Text size="xs" c="dimmed">
              {coverage.summary.covered} of {coverage.summary.targeted} targeted
            </Text>
          </Stack>
        ) : (
          <Text size="sm" c="dimmed">
            –
          </Text>
        )}
      </Table.Td>
      <Table.Td miw={210}>
        {noDaemonSet ? (
          <Text size="xs" c="orange" maw={260}>
            No sensor DaemonSet found: label it <Code>app.kubernetes.io/part-of=tapfleet</Code>.
          </Text>
        ) : coverage ? (
          <StateCounts counts={coverage.summary.counts} />
        ) : null}
      </Table.Td>
      <Table.Td>
        <Text size="sm">{formatRate(row.rates?.packetsPerSecond, "pkt/s")}</Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{formatRate(row.rates?.bitsPerSecond, "bit/s")}</Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm" c={(row.rates?.dropsPerSecond ?? 0) > 0 ? "orange" : undefined}>
          {row.rates?.dropPercent == null ? "–" : `${row.rates.dropPercent.toFixed(2)} %`}
        </Text>
      </Table.Td>
      <Table.Td>
        <Sparkline
          label={`Packets per second of ${cluster.id}`}
          rates={rates}
          clusterId={cluster.id}
          height={28}
        />
      </Table.Td>
    </Table.Tr>
  );
}

/** Packets/s after each report of the cluster ("" for the fleet), as a bare line. */
function Sparkline({
  label,
  rates,
  clusterId,
  height,
}: {
  label: string;
  rates: LiveRatesState;
  clusterId: string;
  height: number;
}) {
  const history = rates.history[clusterId];
  const timestamps = useMemo(() => history?.map(([t]) => t) ?? [], [history]);
  const series = useMemo(() => [{ label: "Packets/s", values: history?.map(([, v]) => v) ?? [] }], [history]);
  if (!history || history.length < 2)
    return (
      <Text size="xs" c="dimmed" aria-label={label}>
        waiting for reports
      </Text>
    );
  return (
    <TimeSeriesChart
      label={label}
      unit="pkt/s"
      timestamps={timestamps}
      series={series}
      height={height}
      sparkline
    />
  );
}

function Stat({
  label,
  value,
  detail,
  attention,
  children,
}: {
  label: string;
  value: string;
  detail: ReactNode;
  attention?: boolean;
  children?: ReactNode;
}) {
  return (
    <Paper withBorder p="md" radius="md" role="group" aria-label={label}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text fz={28} fw={700} lh={1.2}>
        {value}
      </Text>
      <Text size="sm" c={attention ? "orange" : "dimmed"} component="div">
        {detail}
      </Text>
      {children ? <Stack mt="xs">{children}</Stack> : null}
    </Paper>
  );
}
