"use client";

import { Badge, Button, EmptyState, Group, Paper, Stack, Table, Text, Tooltip } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { IconPlus, IconRocket } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useCurrentUser } from "@/components/current-user";
import { DateTime } from "@/components/date-time";
import { LiveBadge } from "@/components/live-badge";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { formatDuration } from "@/lib/format";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC } from "@/lib/trpc";
import { useLiveFeed } from "@/lib/use-live-feed";
import { clusterStatus, clustersDone, rolloutStatus, type RolloutSummary } from "./rollout-status";
import { StartRolloutModal } from "./start-rollout-modal";

const SHOWN_CLUSTERS = 6;

export function RolloutsPage() {
  const user = useCurrentUser();
  const canRollOut = roleAtLeast(user.role, "operator");
  const [startOpened, startModal] = useDisclosure(false);
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const rollouts = useQuery(trpc.rollouts.list.queryOptions());
  const refetch = () => void queryClient.invalidateQueries({ queryKey: trpc.rollouts.list.queryKey() });
  const live = useLiveFeed("rollouts.live", undefined, {
    enabled: rollouts.isSuccess,
    onData: refetch,
    onStarted: refetch,
  });
  const startButton = canRollOut ? (
    <Button leftSection={<IconPlus size={16} />} onClick={startModal.open}>
      New rollout
    </Button>
  ) : (
    <Tooltip label="Starting a rollout needs the operator role.">
      <Button leftSection={<IconPlus size={16} />} disabled>
        New rollout
      </Button>
    </Tooltip>
  );
  return (
    <>
      <PageHeader
        title="Rollouts"
        description="A rollout applies a profile revision to the sensor DaemonSets of one or more clusters: canary clusters first, then the rest in waves. After each cluster a health gate compares capture with before the change, and a cluster that breaks is rolled back by itself."
        actions={
          <>
            {rollouts.isSuccess ? (
              <LiveBadge
                live={live}
                connectedHint="New rollouts and every change of state appear here as they happen."
              />
            ) : null}
            {startButton}
          </>
        }
      />
      {rollouts.isPending ? (
        <LoadingBlock label="Loading rollouts…" />
      ) : rollouts.isError ? (
        <QueryError
          title="Could not load rollouts"
          error={rollouts.error}
          onRetry={() => void rollouts.refetch()}
        />
      ) : rollouts.data.items.length === 0 ? (
        <Paper withBorder p="xl" radius="lg">
          <EmptyState
            icon={<IconRocket />}
            variant="light"
            title="No rollouts yet"
            description="Roll out a profile revision to the clusters whose sensor Tapfleet manages (installed or adopted from a cluster page). Kubernetes replaces each sensor pod with the new settings, and Tapfleet watches capture on every node while it does."
          >
            {canRollOut ? (
              <EmptyState.Actions>
                <Button variant="light" onClick={startModal.open}>
                  Start a rollout
                </Button>
                <Button variant="default" component={Link} href="/configuration">
                  Open profiles
                </Button>
              </EmptyState.Actions>
            ) : (
              <Text size="sm" c="dimmed" ta="center">
                Operators and admins start rollouts; you will see them here.
              </Text>
            )}
          </EmptyState>
        </Paper>
      ) : (
        <Paper withBorder radius="md">
          <Table.ScrollContainer minWidth={960}>
            <Table aria-label="Rollouts" verticalSpacing="sm" highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Revision</Table.Th>
                  <Table.Th>Outcome</Table.Th>
                  <Table.Th>Clusters</Table.Th>
                  <Table.Th>Started</Table.Th>
                  <Table.Th>Duration</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rollouts.data.items.map((rollout) => (
                  <RolloutRow key={rollout.id} rollout={rollout} />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}
      {canRollOut ? <StartRolloutModal opened={startOpened} onClose={startModal.close} /> : null}
    </>
  );
}

function RolloutRow({ rollout }: { rollout: RolloutSummary }) {
  const status = rolloutStatus(rollout.status);
  const shown = rollout.clusters.slice(0, SHOWN_CLUSTERS);
  const hidden = rollout.clusters.length - shown.length;
  return (
    <Table.Tr>
      <Table.Td>
        <Stack gap={2}>
          <Text component={Link} href={`/rollouts/${rollout.id}`} fw={600} c="blue">
            {rollout.profile.name} r{rollout.revision}
          </Text>
          {rollout.image ? (
            <Text size="xs" c="dimmed" ff="monospace">
              {rollout.image}
            </Text>
          ) : null}
        </Stack>
      </Table.Td>
      <Table.Td maw={360}>
        <Stack gap={4}>
          <Badge color={status.color} variant="light">
            {status.label}
          </Badge>
          {rollout.reason ? (
            <Text size="xs" c="dimmed" lineClamp={2} title={rollout.reason}>
              {rollout.reason}
            </Text>
          ) : null}
        </Stack>
      </Table.Td>
      <Table.Td>
        <Stack gap={4}>
          <Group gap={4}>
            {shown.map((cluster) => {
              const state = clusterStatus(cluster.status);
              return (
                <Tooltip key={cluster.clusterId} label={`${cluster.clusterId}: ${state.label}`}>
                  <Badge color={state.color} variant="dot" tt="none">
                    {cluster.clusterId}
                  </Badge>
                </Tooltip>
              );
            })}
            {hidden > 0 ? (
              <Badge color="gray" variant="outline" tt="none">
                +{hidden} more
              </Badge>
            ) : null}
          </Group>
          <Text size="xs" c="dimmed">
            {clustersDone(rollout.clusters)} of {rollout.clusters.length} done
          </Text>
        </Stack>
      </Table.Td>
      <Table.Td>
        <Text size="sm">
          <DateTime iso={rollout.createdAt} /> by {rollout.startedBy.name}
        </Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm">
          {formatDuration(rollout.durationMs)}
          {rollout.finishedAt ? "" : " so far"}
        </Text>
      </Table.Td>
    </Table.Tr>
  );
}
