"use client";

import {
  Anchor,
  Badge,
  Button,
  Group,
  Paper,
  Progress,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from "@mantine/core";
import { IconArrowLeft, IconCamera } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type ReactNode } from "react";
import { LiveBadge } from "@/components/live-badge";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { formatBytes, formatCount, formatDateTime, formatRelative } from "@/lib/format";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { ReportingBadge, useSilenceClock } from "../sensors/reporting";
import { SnapshotModal } from "../sensors/snapshot-modal";
import { SensorKubernetes } from "./sensor-kubernetes";
import { TimeSeriesChart } from "./time-series-chart";

import { useSensorStats, type StatsRange } from "./use-sensor-stats";

type Sensor = RouterOutputs["stats"]["sensor"];
type Series = RouterOutputs["stats"]["series"];

const RANGES = [
  { value: "15m", label: "15 m", words: "15 minutes" },
  { value: "1h", label: "1 h", words: "hour" },
  { value: "6h", label: "6 h", words: "6 hours" },
  { value: "24h", label: "24 h", words: "24 hours" },
  { value: "7d", label: "7 d", words: "7 days" },
] as const satisfies readonly { value: StatsRange; label: string; words: string }[];

/**
 * A sensor (node) page: what its agent reports — rates per interface, protocol mix, interfaces,
 * agent version and config hash — and the snapshot action; and its Kubernetes side (pod status,
 * events, log), read from the cluster rather than the agent (`kubernetes` replaces that section).
 */
export function SensorDetailPage({ sensorId, kubernetes }: { sensorId: string; kubernetes?: ReactNode }) {
  const trpc = useTRPC();
  const sensor = useQuery(trpc.stats.sensor.queryOptions({ sensorId }));
  const [range, setRange] = useState<StatsRange>("15m");
  const { series, live } = useSensorStats(sensorId, range);
  const [snapshotOpen, setSnapshotOpen] = useState(false);

  if (!sensor.data)
    return (
      <Stack gap="lg">
        <PageHeader title="Sensor" />
        {sensor.isError ? (
          <QueryError
            title="Could not load the sensor"
            error={sensor.error}
            onRetry={() => void sensor.refetch()}
          />
        ) : (
          <LoadingBlock label="Loading the sensor…" />
        )}
      </Stack>
    );
  const s = sensor.data;

  return (
    <Stack gap="lg">
      <Anchor component={Link} href="/sensors" size="sm">
        <Group gap={4}>
          <IconArrowLeft size={14} /> Sensors
        </Group>
      </Anchor>
      <PageHeader
        title={s.podName}
        description={`Node ${s.nodeName} in cluster ${s.clusterId}. Rates are computed from the agent's reports.`}
        actions={
          <>
            <LiveBadge live={live} connectedHint="New reports are drawn as they arrive." />
            <Button
              leftSection={<IconCamera size={16} />}
              variant="default"
              onClick={() => setSnapshotOpen(true)}
            >
              Packet snapshot
            </Button>
          </>
        }
      />
      <AgentFacts sensor={s} />
      <Paper withBorder p="md" radius="md">
        <Group justify="space-between" mb="sm" wrap="wrap">
          <Title order={2} size="h4">
            Capture rates
          </Title>
          <Group gap="sm">
            {series.data ? (
              <Text size="xs" c="dimmed">
                {series.data.stepSeconds === null
                  ? "A point per report"
                  : `Averages per ${series.data.stepSeconds >= 3600 ? "hour" : `${series.data.stepSeconds / 60} min`}`}
              </Text>
            ) : null}
            <SegmentedControl
              aria-label="Time range"
              size="xs"
              value={range}
              onChange={(value) => setRange(value)}
              data={RANGES.map(({ value, label }) => ({ value, label }))}
            />
          </Group>
        </Group>
        <Charts series={series} range={range} />
      </Paper>
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        <ProtocolMix series={series.data} range={range} />
        <Interfaces sensor={s} />
      </SimpleGrid>
      <Paper withBorder p="md" radius="md" component="section" aria-labelledby="kubernetes-heading">
        <Title order={2} size="h4" id="kubernetes-heading" mb="sm">
          Kubernetes
        </Title>
        {kubernetes ?? <SensorKubernetes clusterId={s.clusterId} nodeName={s.nodeName} />}
      </Paper>
      <SnapshotModal sensor={snapshotOpen ? s : null} onClose={() => setSnapshotOpen(false)} />
    </Stack>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md" radius="md">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <div style={{ marginTop: 6 }}>{children}</div>
    </Paper>
  );
}

function AgentFacts({ sensor }: { sensor: Sensor }) {
  const now = useSilenceClock([sensor.reporting]);
  const summary = sensor.lastSummary;
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="lg">
      <Fact label="Reporting">
        <Group gap="xs">
          <ReportingBadge
            reporting={sensor.reporting}
            reportIntervalSeconds={summary?.reportIntervalSeconds ?? null}
            now={now}
          />
          <Text size="sm">
            {summary ? `last report ${formatRelative(summary.receivedAt, new Date(now))}` : "no report yet"}
          </Text>
        </Group>
      </Fact>
      <Fact label="Agent version">
        <Text size="sm" ff="monospace">
          {sensor.agentVersion}
        </Text>
      </Fact>
      <Fact label="Config hash">
        <Tooltip label="The hash of the settings the agent runs with">
          <Text size="sm" ff="monospace" truncate>
            {sensor.configHash}
          </Text>
        </Tooltip>
      </Fact>
      <Fact label="First seen">
        <Text size="sm">{formatDateTime(sensor.firstSeenAt)}</Text>
      </Fact>
    </SimpleGrid>
  );
}

function Charts({
  series,
  range,
}: {
  series: ReturnType<typeof useSensorStats>["series"];
  range: StatsRange;
}) {
  if (series.isPending) return <LoadingBlock label="Loading the rates…" />;
  if (series.isError)
    return (
      <QueryError
        title="Could not load the rates"
        error={series.error}
        onRetry={() => void series.refetch()}
      />
    );
  const data = series.data;
  if (data.timestamps.length === 0) {
    const words = RANGES.find((r) => r.value === range)!.words;
    return (
      <Stack align="center" py="xl" gap={4}>
        <Text fw={500}>No reports in the last {words}</Text>
        <Text size="sm" c="dimmed">
          The agent reports every {data.reportIntervalSeconds} s; check it is running.
        </Text>
      </Stack>
    );
  }
  const column = (pick: "packetsPerSecond" | "bitsPerSecond" | "dropsPerSecond") =>
    data.interfaces.map((i) => ({ label: i.name, values: i[pick] }));
  return (
    <Stack gap="md">
      <ChartBlock title="Packets/s">
        <TimeSeriesChart
          label="Packets per second"
          unit="pkt/s"
          timestamps={data.timestamps}
          series={column("packetsPerSecond")}
        />
      </ChartBlock>
      <ChartBlock title="Bits/s">
        <TimeSeriesChart
          label="Bits per second"
          unit="bit/s"
          timestamps={data.timestamps}
          series={column("bitsPerSecond")}
        />
      </ChartBlock>
      <ChartBlock title="Drops/s">
        <TimeSeriesChart
          label="Drops per second"
          unit="drop/s"
          timestamps={data.timestamps}
          series={column("dropsPerSecond")}
          height={160}
        />
      </ChartBlock>
    </Stack>
  );
}

function ChartBlock({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div>
      <Text size="sm" fw={600} mb={4}>
        {title}
      </Text>
      {children}
    </div>
  );
}

const TRANSPORTS = [
  { key: "tcp", label: "TCP", color: "blue" },
  { key: "udp", label: "UDP", color: "teal" },
  { key: "icmp", label: "ICMP", color: "orange" },
  { key: "other", label: "Other", color: "gray" },
] as const;

function ProtocolMix({ series, range }: { series: Series | undefined; range: StatsRange }) {
  const protocols = series?.protocols;
  const total = protocols ? TRANSPORTS.reduce((sum, t) => sum + protocols[t.key], 0) : 0;
  const words = RANGES.find((r) => r.value === range)!.words;
  return (
    <Paper withBorder p="md" radius="md">
      <Title order={2} size="h4" mb="sm">
        Protocol mix
      </Title>
      {!protocols || total === 0 ? (
        <Text size="sm" c="dimmed">
          No packets counted in the last {words}.
        </Text>
      ) : (
        <Stack gap="sm">
          <Progress.Root size={20} aria-label="Packets by transport protocol">
            {TRANSPORTS.map((t) =>
              protocols[t.key] > 0 ? (
                <Tooltip key={t.key} label={`${t.label}: ${formatCount(protocols[t.key])} packets`}>
                  <Progress.Section value={(protocols[t.key] / total) * 100} color={t.color}>
                    <Progress.Label>{t.label}</Progress.Label>
                  </Progress.Section>
                </Tooltip>
              ) : null,
            )}
          </Progress.Root>
          <Group gap="lg">
            {TRANSPORTS.map((t) => (
              <Text key={t.key} size="sm">
                <Badge color={t.color} variant="dot" size="sm" mr={4}>
                  {t.label}
                </Badge>
                {((protocols[t.key] / total) * 100).toFixed(1)}%
              </Text>
            ))}
          </Group>
          <Text size="xs" c="dimmed">
            Over the last {words}: {formatCount(total)} packets; network layer IPv4{" "}
            {formatCount(protocols.ipv4)}, IPv6 {formatCount(protocols.ipv6)}.
          </Text>
        </Stack>
      )}
    </Paper>
  );
}

function Interfaces({ sensor }: { sensor: Sensor }) {
  const interfaces = sensor.lastSummary?.interfaces ?? [];
  return (
    <Paper withBorder p="md" radius="md">
      <Title order={2} size="h4" mb="sm">
        Interfaces captured
      </Title>
      {interfaces.length === 0 ? (
        <Text size="sm" c="dimmed">
          The latest report names no captured interface.
        </Text>
      ) : (
        <Table aria-label="Interfaces captured" verticalSpacing={6}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Interface</Table.Th>
              <Table.Th ta="right">Packets</Table.Th>
              <Table.Th ta="right">Bytes</Table.Th>
              <Table.Th ta="right">Drops</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {interfaces.map((i) => (
              <Table.Tr key={i.name}>
                <Table.Td ff="monospace">{i.name}</Table.Td>
                <Table.Td ta="right">{formatCount(i.packets)}</Table.Td>
                <Table.Td ta="right">{formatBytes(i.bytes)}</Table.Td>
                <Table.Td ta="right">{formatCount(i.kernelDrops + i.interfaceDrops)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Text size="xs" c="dimmed" mt="xs">
        Counters since the agent started, as of its latest report.
      </Text>
    </Paper>
  );
}
