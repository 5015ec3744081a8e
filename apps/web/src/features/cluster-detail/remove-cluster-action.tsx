"use client";

import { Alert, Button, Checkbox, Group, List, Modal, Stack, Text, TextInput, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { IconTrash } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useCurrentUser } from "@/components/current-user";
import { FormError } from "@/components/status-blocks";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC } from "@/lib/trpc";

/**
 * "Remove cluster" for admins: a confirmation that names the cluster, says
 * what goes and what stays, and asks for the cluster's id typed out. Others
 * see the button disabled, with the reason on hover.
 */
export function RemoveClusterAction({
  clusterId,
  displayName,
}: {
  clusterId: string;
  displayName: string | null;
}) {
  const user = useCurrentUser();
  const isAdmin = roleAtLeast(user.role, "admin");
  const [opened, setOpened] = useState(false);
  const button = (
    <Button
      size="xs"
      variant="outline"
      color="red"
      leftSection={<IconTrash size={14} />}
      disabled={!isAdmin}
      onClick={() => setOpened(true)}
    >
      Remove cluster
    </Button>
  );
  if (!isAdmin)
    return (
      <Tooltip label={`Removing a cluster needs the admin role; you have ${user.role}.`} withArrow>
        <span tabIndex={0} style={{ display: "inline-block" }}>
          {button}
        </span>
      </Tooltip>
    );
  return (
    <>
      {button}
      {opened ? (
        <RemoveClusterModal
          clusterId={clusterId}
          displayName={displayName}
          onClose={() => setOpened(false)}
        />
      ) : null}
    </>
  );
}

function RemoveClusterModal(props: { clusterId: string; displayName: string | null; onClose: () => void }) {
  const { clusterId } = props;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [typed, setTyped] = useState("");
  const [releaseSensor, setReleaseSensor] = useState(false);
  const install = useQuery(trpc.sensorInstall.status.queryOptions({ id: clusterId }));
  const managed = install.data?.origin ? install.data : null;
  const remove = useMutation(
    trpc.clusters.remove.mutationOptions({
      onSuccess: async (removed) => {
        await queryClient.invalidateQueries({ queryKey: trpc.clusters.list.queryKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.inventory.coverage.queryKey() });
        notifications.show({
          color: "green",
          title: "Cluster removed",
          message: `“${clusterId}” is gone with ${removed.removed.reports} stored reports; its agents are refused from now on.${
            removed.releasedSensor
              ? ` The sensor ${removed.releasedSensor.namespace}/${removed.releasedSensor.name} was released and keeps running in the cluster.`
              : ""
          }`,
        });
        router.push("/clusters");
      },
    }),
  );
  const matches = typed.trim() === clusterId;
  const named =
    props.displayName && props.displayName !== clusterId ? `${props.displayName} (${clusterId})` : clusterId;

  return (
    <Modal opened onClose={props.onClose} title={`Remove cluster ${named}?`} size="lg">
      <Stack gap="md">
        <Text size="sm">This cannot be undone. Removing “{clusterId}” from Tapfleet:</Text>
        <List size="sm" spacing={4}>
          <List.Item>
            deletes its ingest keys: agents still running there are refused from then on (401 unknown_key);
          </List.Item>
          <List.Item>
            deletes its stored reports, stats, sensors, Kubernetes connection, inventory and drift verdicts;
          </List.Item>
          <List.Item>keeps the audit log and the history of past rollouts;</List.Item>
          <List.Item>deletes nothing in the Kubernetes cluster itself.</List.Item>
        </List>
        {managed ? (
          <Alert
            color="yellow"
            title={`Tapfleet manages the sensor ${managed.namespace}/${managed.name} here`}
          >
            <Stack gap="xs">
              <Text size="sm">
                Uninstall it first from the Sensor section to delete its objects, or release it: Tapfleet
                stops managing it and it keeps running in the cluster, its reports refused.
              </Text>
              <Checkbox
                label="Release the sensor and remove the cluster"
                checked={releaseSensor}
                onChange={(event) => setReleaseSensor(event.currentTarget.checked)}
              />
            </Stack>
          </Alert>
        ) : null}
        <TextInput
          label={`Type the cluster id “${clusterId}” to confirm`}
          value={typed}
          onChange={(event) => setTyped(event.currentTarget.value)}
          autoComplete="off"
          data-autofocus
        />
        <FormError error={remove.error} />
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={props.onClose} disabled={remove.isPending}>
            Cancel
          </Button>
          <Button
            color="red"
            disabled={!matches || (managed !== null && !releaseSensor)}
            loading={remove.isPending}
            onClick={() =>
              remove.mutate({
                id: clusterId,
                ...(managed && releaseSensor ? { releaseSensor: "true" as const } : {}),
              })
            }
          >
            Remove cluster
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
