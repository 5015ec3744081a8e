"use client";

import {
  Alert,
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Paper,
  Progress,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from "@mantine/core";
import { useDisclosure, useInterval } from "@mantine/hooks";
import { IconAlertTriangle, IconPlayerPause, IconPlayerPlay, IconPlayerStop } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { ConfirmModal } from "@/components/confirm-modal";
import { useCurrentUser } from "@/components/current-user";
import { DateTime } from "@/components/date-time";
import { LiveBadge } from "@/components/live-badge";
import { PageHeader } from "@/components/page-header";
import { FormError, LoadingBlock, QueryError } from "@/components/status-blocks";
import { formatDuration } from "@/lib/format";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC } from "@/lib/trpc";
import { useLiveFeed } from "@/lib/use-live-feed";
import {
  clusterReasonColor,
  clusterStatusIn,
  isActive,
  pendingClusterLine,
  rolloutActions,
  rolloutReasonColor,
  rolloutReasonTitle,
  rolloutStatus,
  waveLabel,
  type Rollout,
} from "./rollout-status";

type RolloutCluster = Rollout["clusters"][number];

export function RolloutPage({ rolloutId }: { rolloutId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const rollout = useQuery(trpc.rollouts.get.queryOptions({ id: rolloutId }));
  const refetch = () =>
    void queryClient.invalidateQueries({ queryKey: trpc.rollouts.get.queryKey({ id: rolloutId }) });
  const live = useLiveFeed(
    "rollouts.live",
    { id: rolloutId },
    { enabled: rollout.isSuccess, onData: refetch, onStarted: refetch },
  );
  if (rollout.isPending) return <LoadingBlock label="Loading the rollout…" />;
  if (rollout.isError) {
    return (
      <>
        <PageHeader title="Rollout" />
        <QueryError
          title="Could not load this rollout"
          error={rollout.error}
          onRetry={() => void rollout.refetch()}
        />
        <Anchor component={Link} href="/rollouts" mt="md" display="block">
          All rollouts
        </Anchor>
      </>
    );
  }
  const data = rollout.data;
  const status = rolloutStatus(data.status);
  const waves = groupByWave(data.clusters);
  return (
    <>
      <PageHeader
        title={`Rollout of ${data.profile.name} r${data.revision}`}
        description={
          <>
            Started <DateTime iso={data.createdAt} /> by {data.startedBy.name}
            {data.finishedAt ? (
              <>
                , ended <DateTime iso={data.finishedAt} /> after {formatDuration(data.durationMs)}
              </>
            ) : (
              <>
                , running for <RunningFor durationMs={data.durationMs} measuredAt={rollout.dataUpdatedAt} />
              </>
            )}
          </>
        }
        actions={
          <>
            {isActive(data.status) ? (
              <LiveBadge
                live={live}
                connectedHint="Each node's progress and each gate's verdict appear as they happen."
              />
            ) : null}
            <Badge size="lg" color={status.color} variant="light">
              {status.label}
            </Badge>
            <RolloutActions rollout={data} />
          </>
        }
      />
      <Stack gap="lg">
        {data.reason ? (
          <Alert
            color={rolloutReasonColor(data.status)}
            variant="light"
            icon={<IconAlertTriangle />}
            title={rolloutReasonTitle(data.status)}
          >
            {data.reason}
          </Alert>
        ) : null}
        <Strategy rollout={data} />
        {waves.map(([wave, clusters]) => (
          <Stack key={wave} gap="sm">
            <Title order={2} size="h4">
              {waveLabel(wave)}
            </Title>
            {clusters.map((cluster) => (
              <ClusterCard key={cluster.clusterId} cluster={cluster} rolloutStatus={data.status} />
            ))}
          </Stack>
        ))}
      </Stack>
    </>
  );
}

function groupByWave(clusters: readonly RolloutCluster[]): [number, RolloutCluster[]][] {
  const waves = new Map<number, RolloutCluster[]>();
  for (const cluster of [...clusters].sort((a, b) => a.position - b.position)) {
    waves.set(cluster.wave, [...(waves.get(cluster.wave) ?? []), cluster]);
  }
  return [...waves.entries()].sort(([a], [b]) => a - b);
}

function RolloutActions({ rollout }: { rollout: Rollout }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const canAct = roleAtLeast(user.role, "operator");
  const [abortOpened, abortModal] = useDisclosure(false);
  const onSuccess = async () => {
    abortModal.close();
    await queryClient.invalidateQueries({ queryKey: trpc.rollouts.pathKey() });
  };
  const pause = useMutation(trpc.rollouts.pause.mutationOptions({ onSuccess }));
  const resume = useMutation(trpc.rollouts.resume.mutationOptions({ onSuccess }));
  const abort = useMutation(trpc.rollouts.abort.mutationOptions({ onSuccess }));
  const allowed = rolloutActions(rollout.status);
  if (!allowed.pause && !allowed.resume && !allowed.abort) return null;
  const why = canAct ? undefined : "Pausing, resuming and aborting need the operator role.";
  const button = (label: string, node: React.ReactNode) =>
    why ? (
      <Tooltip label={why} key={label}>
        <span>{node}</span>
      </Tooltip>
    ) : (
      node
    );
  return (
    <>
      {allowed.pause
        ? button(
            "pause",
            <Button
              variant="default"
              leftSection={<IconPlayerPause size={16} />}
              disabled={!canAct}
              loading={pause.isPending}
              onClick={() => pause.mutate({ id: rollout.id })}
            >
              Pause
            </Button>,
          )
        : null}
      {allowed.resume
        ? button(
            "resume",
            <Button
              leftSection={<IconPlayerPlay size={16} />}
              disabled={!canAct}
              loading={resume.isPending}
              onClick={() => resume.mutate({ id: rollout.id })}
            >
              Resume
            </Button>,
          )
        : null}
      {allowed.abort
        ? button(
            "abort",
            <Button
              color="red"
              variant="light"
              leftSection={<IconPlayerStop size={16} />}
              disabled={!canAct}
              onClick={abortModal.open}
            >
              Abort
            </Button>,
          )
        : null}
      <FormError error={pause.error ?? resume.error} />
      <ConfirmModal
        opened={abortOpened}
        title="Abort this rollout?"
        confirmLabel="Abort rollout"
        pending={abort.isPending}
        error={abort.error}
        onConfirm={() => abort.mutate({ id: rollout.id })}
        onClose={abortModal.close}
      >
        Clusters under way are rolled back to their template from before the rollout, and no other cluster
        starts. Clusters that already passed their health gate keep the new revision.
      </ConfirmModal>
    </>
  );
}

function Strategy({ rollout }: { rollout: Rollout }) {
  const { strategy } = rollout;
  const item = (label: string, value: React.ReactNode) => (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm">{value}</Text>
    </Stack>
  );
  return (
    <Paper withBorder radius="md" p="md">
      <SimpleGrid cols={{ base: 2, md: 6 }}>
        {item(
          "Revision",
          <Anchor component={Link} href={`/configuration/${rollout.profile.id}`}>
            {rollout.profile.name} r{rollout.revision}
          </Anchor>,
        )}
        {item(
          "Canary clusters",
          strategy.canaryClusterIds.length ? strategy.canaryClusterIds.join(", ") : "None",
        )}
        {item("Clusters per wave", strategy.waveSize)}
        {item("maxUnavailable / maxSurge", `${strategy.maxUnavailable} / ${strategy.maxSurge}`)}
        {item("Gate deadline", formatDuration(strategy.gateSeconds * 1000))}
        {item("Image", rollout.image ? <Code>{rollout.image}</Code> : "Each DaemonSet keeps its own")}
      </SimpleGrid>
    </Paper>
  );
}

/** The server's duration as of when it was read, ticking on from there while mounted. */
function RunningFor(props: { durationMs: number; measuredAt: number }) {
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), 1000, { autoInvoke: true });
  return <>{formatDuration(props.durationMs + Math.max(0, now - props.measuredAt))}</>;
}

/** Seconds until `iso`, ticking while mounted. */
function useSecondsLeft(iso: string | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  const interval = useInterval(() => setNow(Date.now()), 1000);
  useEffect(() => {
    if (!iso) return;
    interval.start();
    return interval.stop;
  }, [iso, interval]);
  return iso ? Math.max(0, Math.round((Date.parse(iso) - now) / 1000)) : null;
}

function ClusterCard({
  cluster,
  rolloutStatus: within,
}: {
  cluster: RolloutCluster;
  rolloutStatus: Rollout["status"];
}) {
  const state = clusterStatusIn(within, cluster.status);
  const gating = cluster.status === "gating";
  const secondsLeft = useSecondsLeft(gating ? cluster.gateDeadline : null);
  const progress = cluster.progress;
  const bar = (label: string, value: number) => {
    const desired = progress?.desired ?? 0;
    return (
      <Stack gap={2}>
        <Group justify="space-between">
          <Text size="xs" c="dimmed">
            {label}
          </Text>
          <Text size="xs" fw={600}>
            {value} / {desired}
          </Text>
        </Group>
        <Progress
          value={desired === 0 ? 0 : (100 * value) / desired}
          color={value === desired && desired > 0 ? "teal" : "blue"}
          aria-label={`${label}: ${value} of ${desired}`}
        />
      </Stack>
    );
  };
  return (
    <Paper withBorder radius="md" p="md" aria-label={`Cluster ${cluster.clusterId}`}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start">
          <Stack gap={2}>
            <Group gap="xs">
              <Anchor component={Link} href={`/clusters/${encodeURIComponent(cluster.clusterId)}`} fw={600}>
                {cluster.clusterId}
              </Anchor>
              <Badge color={state.color} variant="light">
                {state.label}
              </Badge>
            </Group>
            <Text size="xs" c="dimmed">
              DaemonSet {cluster.daemonSet.namespace}/{cluster.daemonSet.name}
              {cluster.previous?.revision
                ? ` · was r${cluster.previous.revision}`
                : " · was not on a profile revision"}
              {cluster.startedAt ? (
                <>
                  {" · started "}
                  <DateTime iso={cluster.startedAt} />
                </>
              ) : null}
            </Text>
          </Stack>
          {gating && secondsLeft !== null ? (
            <Text size="sm" c="dimmed">
              Gate closes in {formatDuration(secondsLeft * 1000)}
            </Text>
          ) : null}
        </Group>
        {cluster.reason ? (
          <Alert
            color={clusterReasonColor(within, cluster.status)}
            variant="light"
            p="xs"
            icon={<IconAlertTriangle size={16} />}
          >
            {cluster.reason}
          </Alert>
        ) : null}
        {cluster.lastError ? (
          <Text size="sm" c="red">
            Last error: {cluster.lastError}
          </Text>
        ) : null}
        {progress ? (
          <>
            <SimpleGrid cols={3}>
              {bar("Updated", progress.updated)}
              {bar("Ready", progress.ready)}
              {bar("Available", progress.available)}
            </SimpleGrid>
            {progress.waitingFor.length > 0 ? (
              <Text size="sm" c="dimmed">
                Waiting for: {progress.waitingFor.join("; ")}
              </Text>
            ) : null}
            <NodesTable cluster={cluster} />
          </>
        ) : cluster.status === "pending" ? (
          <Text size="sm" c="dimmed">
            {pendingClusterLine(within)}
          </Text>
        ) : null}
      </Stack>
    </Paper>
  );
}

function NodesTable({ cluster }: { cluster: RolloutCluster }) {
  const nodes = cluster.progress?.nodes ?? [];
  if (nodes.length === 0) return null;
  const baseline = new Map((cluster.baseline ?? []).map((b) => [b.nodeName, b]));
  const yes = (value: boolean | null, label: string) =>
    value === null ? (
      <Text size="sm" c="dimmed">
        —
      </Text>
    ) : (
      <Badge color={value ? "teal" : "red"} variant="light" aria-label={`${label}: ${value ? "yes" : "no"}`}>
        {value ? "Yes" : "No"}
      </Badge>
    );
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table aria-label={`Nodes of ${cluster.clusterId}`} verticalSpacing={4} fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Node</Table.Th>
            <Table.Th>Pod</Table.Th>
            <Table.Th>Updated</Table.Th>
            <Table.Th>Ready</Table.Th>
            <Table.Th>Restarts</Table.Th>
            <Table.Th>Waiting</Table.Th>
            <Table.Th>Agent reporting</Table.Th>
            <Table.Th>Before the change</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {nodes.map((node) => {
            const before = baseline.get(node.nodeName);
            return (
              <Table.Tr key={node.nodeName}>
                <Table.Td>{node.nodeName}</Table.Td>
                <Table.Td>
                  <Text size="sm" ff="monospace">
                    {node.podName ?? "—"}
                  </Text>
                </Table.Td>
                <Table.Td>{yes(node.updated, "Updated")}</Table.Td>
                <Table.Td>{yes(node.ready, "Ready")}</Table.Td>
                <Table.Td>{node.restarts}</Table.Td>
                <Table.Td>{node.waitingReason ?? "—"}</Table.Td>
                <Table.Td>
                  {node.reporting === null ? (
                    <Tooltip label="This node's agent did not report before the change: it is judged on Kubernetes readiness alone.">
                      <Text size="sm" c="dimmed">
                        Not judged
                      </Text>
                    </Tooltip>
                  ) : (
                    yes(node.reporting, "Agent reporting")
                  )}
                </Table.Td>
                <Table.Td>
                  <Text size="xs" c="dimmed">
                    {before
                      ? [
                          before.ready ? "ready" : "not ready",
                          before.reporting ? "reporting" : "not reporting",
                          before.capturing ? "capturing" : "not capturing",
                          before.dropRate !== null ? `${(before.dropRate * 100).toFixed(1)}% drops` : null,
                        ]
                          .filter(Boolean)
                          .join(", ")
                      : "—"}
                  </Text>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
