"use client";

import { Badge, Button, Group, Menu, Modal, Stack, Text, Tooltip } from "@mantine/core";
import { IconChevronDown } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { DateTime } from "@/components/date-time";
import { FormError } from "@/components/status-blocks";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";

type Connection = NonNullable<RouterOutputs["clusters"]["list"]["items"][number]["connection"]>;

const STATE_COLOR: Record<Connection["state"], string> = {
  reachable: "green",
  unreachable: "red",
  disabled: "gray",
};

/** Reachable, unreachable or disabled, with the Kubernetes version, node count, last error and since when. */
export function ConnectionStatus({
  connection,
  compact = false,
}: {
  connection: Connection | null;
  /** In a table row: the last error in two lines, the whole of it on hover. */
  compact?: boolean;
}) {
  if (!connection) {
    return (
      <Text size="sm" c="dimmed">
        Not connected
      </Text>
    );
  }
  return (
    <Stack gap={2}>
      <Group gap={6}>
        <Badge color={STATE_COLOR[connection.state]} variant="light" data-connection-state={connection.state}>
          {connection.state}
        </Badge>
        {connection.insecure ? (
          <Tooltip label="insecure-skip-tls-verify: the API server's certificate is not checked">
            <Badge color="yellow" variant="outline">
              TLS not verified
            </Badge>
          </Tooltip>
        ) : null}
      </Group>
      <Text size="xs" c="dimmed">
        {[
          connection.serverVersion ? `Kubernetes ${connection.serverVersion}` : null,
          connection.nodeCount === null
            ? null
            : `${connection.nodeCount} ${connection.nodeCount === 1 ? "node" : "nodes"}`,
          connection.context,
        ]
          .filter(Boolean)
          .join(" · ")}
      </Text>
      <Text size="xs" c="dimmed">
        Since <DateTime iso={connection.since} relative />
      </Text>
      {connection.lastError && connection.lastErrorAt ? (
        <Text
          size="xs"
          c="red"
          maw={360}
          style={{ overflowWrap: "anywhere" }}
          lineClamp={compact ? 2 : undefined}
          title={compact ? connection.lastError : undefined}
        >
          {connection.lastError} (<DateTime iso={connection.lastErrorAt} relative />)
        </Text>
      ) : null}
    </Stack>
  );
}

/** Connect, or change, test, disable, enable and remove a connection. */
export function ConnectionActions({
  clusterId,
  connection,
  onConnect,
}: {
  clusterId: string;
  connection: Connection | null;
  onConnect: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirmRemove, setConfirmRemove] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.clusters.list.queryKey() });
  const test = useMutation(trpc.clusters.testConnection.mutationOptions({ onSettled: refresh }));
  const setEnabled = useMutation(trpc.clusters.setConnectionEnabled.mutationOptions({ onSettled: refresh }));
  const remove = useMutation(
    trpc.clusters.removeConnection.mutationOptions({
      onSuccess: async () => {
        setConfirmRemove(false);
        await refresh();
      },
    }),
  );

  if (!connection) {
    return (
      <Button size="xs" variant="light" onClick={onConnect}>
        Connect
      </Button>
    );
  }
  return (
    <>
      <Menu position="bottom-end" withinPortal>
        <Menu.Target>
          <Button
            size="xs"
            variant="default"
            rightSection={<IconChevronDown size={14} />}
            loading={test.isPending || setEnabled.isPending}
          >
            Connection
          </Button>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Item onClick={onConnect}>Change kubeconfig…</Menu.Item>
          <Menu.Item disabled={!connection.enabled} onClick={() => test.mutate({ id: clusterId })}>
            Test again
          </Menu.Item>
          <Menu.Item onClick={() => setEnabled.mutate({ id: clusterId, enabled: !connection.enabled })}>
            {connection.enabled ? "Disable" : "Enable"}
          </Menu.Item>
          <Menu.Divider />
          <Menu.Item color="red" onClick={() => setConfirmRemove(true)}>
            Remove connection…
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>
      <Modal opened={confirmRemove} onClose={() => setConfirmRemove(false)} title="Remove the connection?">
        <Stack gap="md">
          <Text size="sm">
            Tapfleet forgets the kubeconfig of “{clusterId}” and stops watching the cluster. Its sensors keep
            reporting with their ingest key.
          </Text>
          <FormError error={remove.error} />
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={() => setConfirmRemove(false)}>
              Cancel
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => remove.mutate({ id: clusterId })}>
              Remove connection
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
