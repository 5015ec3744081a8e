"use client";

import { Badge, Group, Table, Text } from "@mantine/core";
import type { RouterOutputs } from "@/lib/trpc";

type DaemonSetStatus = RouterOutputs["inventory"]["coverage"]["clusters"][number]["daemonSetStatus"][string];

const COLUMNS = [
  ["DESIRED", "desired"],
  ["CURRENT", "current"],
  ["READY", "ready"],
  ["UP-TO-DATE", "upToDate"],
  ["AVAILABLE", "available"],
] as const;

/**
 * A sensor DaemonSet's status in the columns of `kubectl get ds -o wide`, with its generations.
 * `stale`: the cluster is not answering, so this is the last status seen, not a current one.
 */
export function DaemonSetStatusTable({
  status,
  stale = false,
}: {
  status: DaemonSetStatus | undefined;
  stale?: boolean;
}) {
  if (!status)
    return (
      <Text size="xs" c="dimmed">
        Status shown once the cluster is synced again.
      </Text>
    );
  return (
    <>
      <Table
        aria-label="DaemonSet status"
        withTableBorder
        fz="sm"
        ff="monospace"
        horizontalSpacing="xs"
        verticalSpacing={4}
      >
        <Table.Thead>
          <Table.Tr>
            {COLUMNS.map(([label]) => (
              <Table.Th key={label} fz="xs">
                {label}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          <Table.Tr>
            {COLUMNS.map(([label, field]) => (
              <Table.Td key={label} data-column={label}>
                {status[field]}
              </Table.Td>
            ))}
          </Table.Tr>
        </Table.Tbody>
      </Table>
      <Group gap="xs" mt={6}>
        {stale ? (
          <Badge
            color="gray"
            variant="light"
            size="sm"
            title="The cluster is not answering: the last status seen"
          >
            Last known
          </Badge>
        ) : status.rollingOut ? (
          <Badge color="orange" variant="light" size="sm">
            Rolling out
          </Badge>
        ) : (
          <Badge color="teal" variant="light" size="sm">
            Rolled out
          </Badge>
        )}
        <Text size="xs" c="dimmed">
          Generation {status.generation} · observed {status.observedGeneration ?? "not yet"}
          {status.misscheduled > 0 ? ` · ${status.misscheduled} misscheduled` : ""}
        </Text>
      </Group>
    </>
  );
}
