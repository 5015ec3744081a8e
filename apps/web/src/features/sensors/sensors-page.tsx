"use client";

import {
  ActionIcon,
  Anchor,
  EmptyState,
  Group,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  Tooltip,
} from "@mantine/core";
import { useInterval } from "@mantine/hooks";
import { IconAccessPoint, IconFileDownload } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { LiveBadge } from "@/components/live-badge";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { formatBytes, formatCount, formatDateTime, formatRelative } from "@/lib/format";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { isSilent, ReportingBadge, useSilenceClock } from "./reporting";
import { SnapshotModal } from "./snapshot-modal";
import { useLiveSensors } from "./use-live-sensors";

type Sensor = RouterOutputs["sensors"]["list"]["items"][number];

export function SensorsPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const clusterId = useSearchParams().get("cluster") ?? undefined;
  const clusters = useQuery(trpc.clusters.list.queryOptions());

  return (
    <>
      <PageHeader
        title="Sensors"
        description="Every sensor that has reported, with its latest capture statistics, updated live."
        actions={
          <Select
            aria-label="Cluster"
            placeholder="All clusters"
            data={(clusters.data?.items ?? []).map((cluster) => ({
              value: cluster.id,
              label: cluster.displayName ?? cluster.id,
            }))}
            value={clusterId ?? null}
            clearable
            w={220}
            onChange={(value) =>
              // The filter lives in the URL so that a link from the Clusters page lands on one cluster.
              router.replace(value ? `${pathname}?cluster=${encodeURIComponent(value)}` : pathname)
            }
          />
        }
      />
      <SensorsTable
        clusterId={clusterId}
        clusterNames={new Map((clusters.data?.items ?? []).map((c) => [c.id, c.displayName ?? c.id]))}
      />
    </>
  );
}

/** The counters of a report run from the agent's start: they restart from zero with the agent. */
const SINCE_START_HINT =
  "Counted by the agent since it started (a restart counts from zero again); the sensor's page shows the rates.";

function SensorsTable({
  clusterId,
  clusterNames,
}: {
  clusterId: string | undefined;
  /** The clusters' display names by id; an id stands until they are loaded. */
  clusterNames: Map<string, string>;
}) {
  const { sensors, live } = useLiveSensors(clusterId);

  // Relative times ("12 s ago") move on every few seconds; a sensor's badge turns silent at the
  // moment the server named, even when no report arrives.
  const [ticked, setTicked] = useState(() => Date.now());
  useInterval(() => setTicked(Date.now()), 5_000, { autoInvoke: true });
  const silenceClock = useSilenceClock(sensors.data?.items.map((sensor) => sensor.reporting) ?? []);
  const now = Math.max(ticked, silenceClock);
  const [snapshotOf, setSnapshotOf] = useState<Sensor | null>(null);

  if (sensors.isPending) return <LoadingBlock label="Loading sensors…" />;
  if (sensors.isError) {
    return (
      <QueryError
        title="Could not load sensors"
        error={sensors.error}
        onRetry={() => void sensors.refetch()}
      />
    );
  }

  // About this page's connection to the server, not about the sensors: each has its own badge.
  const liveBadge = <LiveBadge live={live} connectedHint="New reports appear here as they arrive." />;

  const silentCount = sensors.data.items.filter((sensor) => isSilent(sensor.reporting, now)).length;

  if (sensors.data.items.length === 0) {
    return (
      <Paper withBorder p="xl" radius="lg">
        <EmptyState
          icon={<IconAccessPoint />}
          variant="light"
          title={
            clusterId
              ? `No sensor has reported from ${clusterNames.get(clusterId) ?? clusterId} yet`
              : "No sensors have reported yet"
          }
          description="Each sensor pod appears here with its cluster, node, agent version and the packets it captures and drops, as soon as it sends its first report."
        >
          <Text size="sm" c="dimmed" ta="center" maw={560}>
            Register a cluster and connect it to Kubernetes, then install the sensor from the cluster&apos;s
            page, or deploy the sensor DaemonSet yourself with the cluster&apos;s ingest key. This page
            updates by itself when reports arrive.
          </Text>
          <EmptyState.Actions>{liveBadge}</EmptyState.Actions>
        </EmptyState>
      </Paper>
    );
  }

  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Text size="sm" c="dimmed" aria-label="Sensor count">
          {sensors.data.items.length} {sensors.data.items.length === 1 ? "sensor" : "sensors"}
          {silentCount > 0 ? `, ${silentCount} silent` : ", all reporting"}
        </Text>
        {liveBadge}
      </Group>
      <Paper withBorder radius="md">
        <Table.ScrollContainer minWidth={980}>
          <Table aria-label="Sensors" tabularNums>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Sensor</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Cluster</Table.Th>
                <Table.Th>Agent</Table.Th>
                <Table.Th>Last report</Table.Th>
                <SinceStartTh label="Packets" />
                <SinceStartTh label="Bytes" />
                <SinceStartTh label="Drops" />
                <Table.Th>Uploads</Table.Th>
                <Table.Th aria-label="Packet snapshots" />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {sensors.data.items.map((sensor) => (
                <SensorRow
                  key={sensor.id}
                  sensor={sensor}
                  clusterName={clusterNames.get(sensor.clusterId) ?? sensor.clusterId}
                  now={now}
                  onSnapshot={() => setSnapshotOf(sensor)}
                />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Paper>
      <SnapshotModal sensor={snapshotOf} onClose={() => setSnapshotOf(null)} />
    </Stack>
  );
}

/** A counter's header: its name, and that it counts since the agent started. */
function SinceStartTh({ label }: { label: string }) {
  return (
    <Table.Th>
      <Tooltip label={SINCE_START_HINT} multiline maw={320}>
        <span>
          {label}{" "}
          <Text span size="xs" c="dimmed" fw={400}>
            since start
          </Text>
        </span>
      </Tooltip>
    </Table.Th>
  );
}

function SensorRow({
  sensor,
  clusterName,
  now,
  onSnapshot,
}: {
  sensor: Sensor;
  clusterName: string;
  now: number;
  onSnapshot: () => void;
}) {
  const summary = sensor.lastSummary;
  const drops = summary ? summary.kernelDrops + summary.interfaceDrops : 0;
  return (
    <Table.Tr>
      <Table.Td>
        <Anchor component={Link} href={`/sensors/${sensor.id}`} size="sm" fw={500} ff="monospace">
          {sensor.podName}
        </Anchor>
        <Text size="xs" c="dimmed">
          node {sensor.nodeName}
        </Text>
      </Table.Td>
      <Table.Td>
        <ReportingBadge
          reporting={sensor.reporting}
          reportIntervalSeconds={summary?.reportIntervalSeconds ?? null}
          now={now}
        />
      </Table.Td>
      <Table.Td>
        <Anchor
          component={Link}
          href={`/clusters/${encodeURIComponent(sensor.clusterId)}`}
          size="sm"
          title={clusterName === sensor.clusterId ? undefined : `Cluster id ${sensor.clusterId}`}
        >
          {clusterName}
        </Anchor>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{sensor.agentVersion}</Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm" title={formatDateTime(summary?.receivedAt ?? sensor.lastSeenAt)}>
          {formatRelative(summary?.receivedAt ?? sensor.lastSeenAt, new Date(now))}
        </Text>
      </Table.Td>
      <Table.Td>
        <Text
          size="sm"
          title={
            summary?.agentStartedAt
              ? `Since the agent started, ${formatDateTime(summary.agentStartedAt)}`
              : undefined
          }
        >
          {summary ? formatCount(summary.packets) : "—"}
        </Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{summary ? formatBytes(summary.bytes) : "—"}</Text>
      </Table.Td>
      <Table.Td>
        {summary ? (
          <Tooltip label={`kernel ${summary.kernelDrops}, interface ${summary.interfaceDrops}`}>
            <Text size="sm" c={drops > 0 ? "red" : undefined}>
              {formatCount(drops)}
            </Text>
          </Tooltip>
        ) : (
          <Text size="sm">—</Text>
        )}
      </Table.Td>
      <Table.Td>
        <Text size="sm">
          {summary
            ? `${formatCount(summary.upload.chunksSent)} sent${
                summary.upload.chunksDropped > 0
                  ? `, ${formatCount(summary.upload.chunksDropped)} dropped`
                  : ""
              }${
                summary.upload.reportsDropped > 0
                  ? `; ${formatCount(summary.upload.reportsDropped)} reports lost`
                  : ""
              }`
            : "—"}
        </Text>
      </Table.Td>
      <Table.Td>
        <Tooltip label={antigenaLabel(summary)} multiline maw={320}>
          <ActionIcon
            variant="subtle"
            aria-label={`Packet snapshots of ${sensor.podName}`}
            onClick={onSnapshot}
          >
            <IconFileDownload size={18} />
          </ActionIcon>
        </Tooltip>
      </Table.Td>
    </Table.Tr>
  );
}

/** What the snapshot button's tooltip says about the sensor's response-action polling. */
function antigenaLabel(summary: Sensor["lastSummary"]): string {
  if (!summary) return "Packet snapshots";
  const counters = summary.antigena;
  if (!counters)
    return "Packet snapshots — this agent does not poll for actions (ANTIGENA_ENABLED=false, or an older agent), so a request will expire.";
  return `Packet snapshots — polls ${formatCount(counters.pollsOk)} ok, ${formatCount(counters.pollsFailed)} failed; actions ${formatCount(counters.actionsSucceeded)} succeeded, ${formatCount(counters.actionsFailed)} failed`;
}
