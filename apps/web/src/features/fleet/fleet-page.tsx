"use client";

import { Button, EmptyState, Group, Paper, SimpleGrid, Text } from "@mantine/core";
import { IconRadar } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { ReactNode } from "react";
import { LiveBadge } from "@/components/live-badge";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { formatCount } from "@/lib/format";
import { useTRPC } from "@/lib/trpc";
import { isSilent, useSilenceClock } from "../sensors/reporting";
import { useLiveSensors } from "../sensors/use-live-sensors";
import { DemoNotice, StartDemoButton } from "./demo-controls";

export function FleetPage() {
  const trpc = useTRPC();
  const clusters = useQuery(trpc.clusters.list.queryOptions());
  const { sensors, live } = useLiveSensors(undefined);
  const now = useSilenceClock(sensors.data?.items.map((sensor) => sensor.reporting) ?? []);

  const header = (
    <PageHeader
      title="Fleet"
      description="Every sensor across every cluster, at a glance."
      actions={<LiveBadge live={live} connectedHint="The counts follow each report as it arrives." />}
    />
  );
  if (clusters.isPending || sensors.isPending) {
    return (
      <>
        {header}
        <LoadingBlock label="Loading the fleet…" />
      </>
    );
  }
  if (clusters.isError || sensors.isError) {
    return (
      <>
        {header}
        <QueryError
          title="Could not load the fleet"
          error={clusters.error ?? sensors.error}
          onRetry={() => {
            void clusters.refetch();
            void sensors.refetch();
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
            title="No sensors reporting yet"
            description="This overview will show your whole fleet: how many clusters and sensors report, which sensors went silent, and the packets they capture and drop."
          >
            <Text size="sm" c="dimmed" ta="center" maw={560}>
              Register a cluster first. Its sensors appear here as soon as they send their first report.
            </Text>
            <EmptyState.Actions>
              <Button component={Link} href="/clusters" variant="light">
                Go to Clusters
              </Button>
              <StartDemoButton />
            </EmptyState.Actions>
          </EmptyState>
        </Paper>
      </>
    );
  }

  const allSensors = sensors.data.items;
  const silent = allSensors.filter((sensor) => isSilent(sensor.reporting, now)).length;
  const withoutSensors = clusters.data.items.filter((cluster) => cluster.sensorCount === 0).length;
  const packets = allSensors.reduce((sum, sensor) => sum + (sensor.lastSummary?.packets ?? 0), 0);
  const drops = allSensors.reduce(
    (sum, sensor) =>
      sum + (sensor.lastSummary ? sensor.lastSummary.kernelDrops + sensor.lastSummary.interfaceDrops : 0),
    0,
  );

  return (
    <>
      {header}
      <DemoNotice />
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="md">
        <Stat
          label="Clusters"
          value={String(clusters.data.items.length)}
          detail={withoutSensors > 0 ? `${withoutSensors} without sensors` : "all have sensors"}
          attention={withoutSensors > 0}
        />
        <Stat
          label="Sensors"
          value={String(allSensors.length)}
          detail={
            allSensors.length === 0
              ? "none has reported yet"
              : silent > 0
                ? `${silent} silent`
                : "all reporting"
          }
          attention={silent > 0}
        />
        <Stat label="Packets" value={formatCount(packets)} detail="in the latest report of each sensor" />
        <Stat
          label="Drops"
          value={formatCount(drops)}
          detail="kernel and interface, latest reports"
          attention={drops > 0}
        />
      </SimpleGrid>
      <Group mt="lg" gap="sm">
        <Button component={Link} href="/sensors" variant="light">
          See all sensors
        </Button>
        <Button component={Link} href="/clusters" variant="default">
          See clusters
        </Button>
      </Group>
    </>
  );
}

function Stat({
  label,
  value,
  detail,
  attention,
}: {
  label: string;
  value: string;
  detail: ReactNode;
  attention?: boolean;
}) {
  return (
    <Paper withBorder p="md" radius="md" role="group" aria-label={label}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text fz={32} fw={700} lh={1.2}>
        {value}
      </Text>
      <Text size="sm" c={attention ? "orange" : "dimmed"}>
        {detail}
      </Text>
    </Paper>
  );
}
