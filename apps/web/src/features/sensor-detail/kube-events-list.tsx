"use client";

import { Badge, Table, Text, Tooltip } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { formatDateTime, formatRelative } from "@/lib/format";
import { useTRPC, type RouterInputs } from "@/lib/trpc";

export type KubeEventsTarget = Omit<RouterInputs["kube"]["events"], "clusterId">;

/**
 * The Kubernetes events about one DaemonSet, pod or node, newest first, read from the cluster
 * through its stored connection. Reusable wherever an object's events are shown (sensor, cluster
 * and DaemonSet pages); `refetchIntervalMs` is a fallback for events the live topics do not announce.
 */
export function KubeEventsList({
  clusterId,
  target,
  refetchIntervalMs = 30_000,
}: {
  clusterId: string;
  target: KubeEventsTarget;
  refetchIntervalMs?: number;
}) {
  const trpc = useTRPC();
  const events = useQuery({
    ...trpc.kube.events.queryOptions({ clusterId, ...target }),
    refetchInterval: refetchIntervalMs,
  });
  const label = `Events of ${target.kind} ${target.name}`;
  if (events.isPending) return <LoadingBlock label="Loading the events…" />;
  if (events.isError)
    return (
      <QueryError
        title="Could not read the events"
        error={events.error}
        onRetry={() => void events.refetch()}
      />
    );
  const items = events.data.items;
  if (items.length === 0)
    return (
      <Text size="sm" c="dimmed">
        No events about {target.kind === "Node" ? "the node" : `this ${target.kind}`} (Kubernetes keeps them
        for an hour by default).
      </Text>
    );
  const now = new Date();
  return (
    <Table.ScrollContainer minWidth={640} maxHeight={320}>
      <Table aria-label={label} verticalSpacing={6} stickyHeader>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Type</Table.Th>
            <Table.Th>Reason</Table.Th>
            <Table.Th>Message</Table.Th>
            <Table.Th ta="right">Count</Table.Th>
            <Table.Th>Last seen</Table.Th>
            <Table.Th>Source</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((event) => (
            <Table.Tr key={`${event.namespace}/${event.name}`}>
              <Table.Td>
                <Badge
                  color={event.type === "Warning" ? "orange" : "gray"}
                  variant="light"
                  size="sm"
                  style={{ minWidth: "max-content" }}
                >
                  {event.type ?? "—"}
                </Badge>
              </Table.Td>
              <Table.Td fw={500}>{event.reason ?? "—"}</Table.Td>
              <Table.Td>
                <Text size="sm" style={{ wordBreak: "break-word" }}>
                  {event.message ?? ""}
                </Text>
              </Table.Td>
              <Table.Td ta="right">{event.count}</Table.Td>
              <Table.Td>
                {event.lastSeen ? (
                  <Tooltip
                    label={`First ${formatDateTime(event.firstSeen)}, last ${formatDateTime(event.lastSeen)}`}
                  >
                    <Text size="sm" component="span" style={{ whiteSpace: "nowrap" }}>
                      {formatRelative(event.lastSeen, now)}
                    </Text>
                  </Tooltip>
                ) : (
                  "—"
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm" c="dimmed">
                  {event.source ?? "—"}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
