"use client";

import {
  Alert,
  Anchor,
  Badge,
  Code,
  Group,
  Paper,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  Title,
  Tooltip,
} from "@mantine/core";
import { IconCloudOff, IconPlugConnectedX } from "@tabler/icons-react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type ReactNode } from "react";
import { useCurrentUser } from "@/components/current-user";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { appErrorCode, errorMessage } from "@/lib/api-errors";
import { formatDateTime, formatRelative } from "@/lib/format";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { useLiveFeed } from "@/lib/use-live-feed";
import { DebugLevelCard } from "../debug-level/debug-level-card";
import { KubeEventsList, type KubeEventsTarget } from "./kube-events-list";
import { PodLogViewer } from "./pod-log-viewer";

type PodStatus = RouterOutputs["kube"]["podStatus"];
type Row = PodStatus["daemonSets"][number];
type Pod = NonNullable<Row["pod"]>;

/**
 * The sensor's Kubernetes side, from its cluster through the stored connection: the pod's status,
 * image and last termination, its events (or its node's or DaemonSet's), and its log followed live.
 * Refreshed when the inventory announces a change for the node.
 */
export function SensorKubernetes({ clusterId, nodeName }: { clusterId: string; nodeName: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const status = useQuery({ ...trpc.kube.podStatus.queryOptions({ clusterId, nodeName }), retry: false });
  useLiveFeed(
    "inventory.live",
    { clusterId },
    {
      onData: (message) => {
        const forNode =
          message.type === "resync" ||
          (message.type === "node" && message.node.nodeName === nodeName) ||
          (message.type === "node-removed" && message.nodeName === nodeName);
        if (!forNode) return;
        void queryClient.invalidateQueries({
          queryKey: trpc.kube.podStatus.queryKey({ clusterId, nodeName }),
        });
        void queryClient.invalidateQueries({ queryKey: trpc.kube.events.queryKey() });
      },
    },
  );

  if (status.isPending) return <LoadingBlock label="Reading the pod from the cluster…" />;
  if (status.isError)
    return <Unavailable clusterId={clusterId} error={status.error} retry={() => void status.refetch()} />;
  const row = status.data.daemonSets.find((r) => r.pod) ?? status.data.daemonSets[0];
  if (!row) return null;
  return <PodDetail clusterId={clusterId} nodeName={nodeName} row={row} />;
}

function Unavailable({ clusterId, error, retry }: { clusterId: string; error: unknown; retry: () => void }) {
  const code = appErrorCode(error);
  if (code === "CONFLICT")
    return (
      <Group gap="sm" align="flex-start" wrap="nowrap">
        <IconCloudOff size={20} style={{ flexShrink: 0, marginTop: 2 }} color="var(--mantine-color-dimmed)" />
        <Stack gap={4}>
          <Text size="sm" c="dimmed">
            The pod&apos;s status, restarts, last termination, log and events appear here once the
            sensor&apos;s cluster is connected.
          </Text>
          <Text size="sm">
            {errorMessage(error)}{" "}
            <Anchor component={Link} href="/clusters" size="sm">
              Go to Clusters
            </Anchor>
          </Text>
        </Stack>
      </Group>
    );
  if (code === "UNAVAILABLE")
    return (
      <Alert color="orange" variant="light" title="The cluster does not answer" icon={<IconPlugConnectedX />}>
        <Text size="sm">{errorMessage(error)}</Text>
        <Text size="xs" c="dimmed" mt={4}>
          The pod&apos;s status, log and events are read from the cluster when shown. The cluster&apos;s row
          on the{" "}
          <Anchor component={Link} href={`/clusters/${clusterId}`} size="xs">
            cluster page
          </Anchor>{" "}
          tells since when it is unreachable.
        </Text>
      </Alert>
    );
  return <QueryError title="Could not read the pod from the cluster" error={error} onRetry={retry} />;
}

function PodDetail({ clusterId, nodeName, row }: { clusterId: string; nodeName: string; row: Row }) {
  const pod = row.pod;
  const canManage = roleAtLeast(useCurrentUser().role, "operator");
  const [eventsOf, setEventsOf] = useState<KubeEventsTarget["kind"]>("Pod");
  const target: KubeEventsTarget =
    eventsOf === "Node"
      ? { kind: "Node", name: nodeName }
      : eventsOf === "DaemonSet"
        ? { kind: "DaemonSet", namespace: row.daemonSet.namespace, name: row.daemonSet.name }
        : { kind: "Pod", namespace: row.daemonSet.namespace, name: pod?.name ?? row.podName ?? "" };
  return (
    <Stack gap="lg">
      {pod ? (
        <PodFacts pod={pod} row={row} nodeName={nodeName} />
      ) : (
        <Text size="sm" c="dimmed">
          No sensor pod on this node now: {row.reason}
        </Text>
      )}
      <DebugLevelCard clusterId={clusterId} canManage={canManage} daemonSet={row.daemonSet} />
      <div>
        <Group justify="space-between" mb="xs" wrap="wrap">
          <Title order={3} size="h5">
            Events
          </Title>
          <SegmentedControl
            size="xs"
            aria-label="Events of"
            value={eventsOf}
            onChange={setEventsOf}
            data={[
              { value: "Pod", label: "Pod", disabled: !pod && !row.podName },
              { value: "Node", label: "Node" },
              { value: "DaemonSet", label: "DaemonSet" },
            ]}
          />
        </Group>
        {target.name ? <KubeEventsList clusterId={clusterId} target={target} /> : null}
      </div>
      {pod ? (
        <div>
          <Title order={3} size="h5" mb="xs">
            Log
          </Title>
          <PodLogViewer
            key={pod.name}
            clusterId={clusterId}
            namespace={pod.namespace}
            pod={pod.name}
            containers={pod.containers.map((c) => c.name)}
          />
        </div>
      ) : null}
    </Stack>
  );
}

const PHASE_COLORS: Record<string, string> = {
  Running: "green",
  Pending: "yellow",
  Succeeded: "gray",
  Failed: "red",
  Unknown: "gray",
};

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <div style={{ marginTop: 4 }}>{children}</div>
    </div>
  );
}

function PodFacts({ pod, row, nodeName }: { pod: Pod; row: Row; nodeName: string }) {
  const now = new Date();
  const terminated = pod.containers.find((c) => c.lastTermination)?.lastTermination ?? null;
  const waiting = pod.containers.find((c) => c.state === "waiting" && c.stateReason);
  const images = [...new Set(pod.containers.map((c) => c.image).filter((i): i is string => i !== null))];
  return (
    <Paper withBorder p="md" radius="md" aria-label="Pod status">
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="lg" verticalSpacing="md">
        <Fact label="Pod">
          <Text size="sm" ff="monospace" style={{ wordBreak: "break-all" }}>
            {pod.namespace}/{pod.name}
          </Text>
        </Fact>
        <Fact label="Phase">
          <Group gap={6}>
            <Badge color={PHASE_COLORS[pod.phase ?? "Unknown"] ?? "gray"} variant="light">
              {pod.phase ?? "Unknown"}
            </Badge>
            <Badge color={pod.ready ? "green" : "orange"} variant="outline">
              {pod.ready ? "Ready" : "Not ready"}
            </Badge>
            {pod.deleting ? (
              <Badge color="gray" variant="outline">
                Terminating
              </Badge>
            ) : null}
          </Group>
          {waiting ? (
            <Text size="xs" c="orange" mt={4}>
              {waiting.stateReason}
              {waiting.stateMessage ? `: ${waiting.stateMessage}` : ""}
            </Text>
          ) : null}
        </Fact>
        <Fact label="Restarts">
          <Text size="sm" fw={pod.restarts > 0 ? 600 : undefined} c={pod.restarts > 0 ? "orange" : undefined}>
            {pod.restarts}
          </Text>
        </Fact>
        <Fact label="Node">
          <Text size="sm" ff="monospace">
            {pod.nodeName ?? nodeName}
          </Text>
        </Fact>
        <Fact label={images.length > 1 ? "Images" : "Image"}>
          {images.map((image) => (
            <Text key={image} size="sm" ff="monospace" style={{ wordBreak: "break-all" }}>
              {image}
            </Text>
          ))}
        </Fact>
        <Fact label="Coverage">
          <Tooltip label={row.reason} multiline w={320}>
            <Badge variant="light" color={row.state === "covered" ? "green" : "orange"}>
              {row.state}
            </Badge>
          </Tooltip>
          <Text size="xs" c="dimmed" mt={4}>
            since {formatRelative(row.since, now)}
          </Text>
        </Fact>
        <Fact label="Started">
          <Text size="sm">{formatDateTime(pod.containers[0]?.startedAt ?? pod.createdAt)}</Text>
        </Fact>
        <Fact label="DaemonSet">
          <Text size="sm" ff="monospace">
            {row.daemonSet.namespace}/{row.daemonSet.name}
          </Text>
        </Fact>
      </SimpleGrid>
      <Stack gap={4} mt="md">
        <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
          Last termination
        </Text>
        {terminated ? (
          <>
            <Group gap="xs">
              <Badge color="red" variant="light">
                {terminated.reason ?? "Terminated"}
              </Badge>
              <Text size="sm">exit code {terminated.exitCode}</Text>
              {terminated.finishedAt ? (
                <Text size="sm" c="dimmed" title={formatDateTime(terminated.finishedAt)}>
                  {formatRelative(terminated.finishedAt, now)}
                </Text>
              ) : null}
            </Group>
            {terminated.message ? (
              <Code block style={{ maxHeight: 140, overflow: "auto" }}>
                {terminated.message}
              </Code>
            ) : null}
          </>
        ) : (
          <Text size="sm" c="dimmed">
            None: the container has not ended since the pod started.
          </Text>
        )}
      </Stack>
    </Paper>
  );
}
