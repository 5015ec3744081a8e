"use client";

import { Anchor, Badge, Button, Code, EmptyState, Group, Paper, Stack, Table, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { IconPlus, IconServer2 } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useCurrentUser } from "@/components/current-user";
import { DateTime } from "@/components/date-time";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { ConnectClusterModal } from "./connect-cluster-modal";
import { ConnectionActions, ConnectionStatus } from "./connection-cell";
import { RegisterClusterModal } from "./register-cluster-modal";
import { RotateKeyModal } from "./rotate-key-modal";

type Cluster = RouterOutputs["clusters"]["list"]["items"][number];

export function ClustersPage() {
  const user = useCurrentUser();
  const canManage = roleAtLeast(user.role, "operator");
  const [registerOpened, registerModal] = useDisclosure(false);
  return (
    <>
      <PageHeader
        title="Clusters"
        description="The Kubernetes clusters Tapfleet watches, and the ingest keys their sensors report with."
        actions={
          canManage ? (
            <Button leftSection={<IconPlus size={16} />} onClick={registerModal.open}>
              Register a cluster
            </Button>
          ) : null
        }
      />
      <ClustersTable canManage={canManage} onRegister={registerModal.open} />
      {canManage ? <RegisterClusterModal opened={registerOpened} onClose={registerModal.close} /> : null}
    </>
  );
}

function ClustersTable({ canManage, onRegister }: { canManage: boolean; onRegister: () => void }) {
  const trpc = useTRPC();
  const clusters = useQuery(trpc.clusters.list.queryOptions());
  const [rotateTarget, setRotateTarget] = useState<string | null>(null);
  const [connectTarget, setConnectTarget] = useState<Cluster | null>(null);

  if (clusters.isPending) return <LoadingBlock label="Loading clusters…" />;
  if (clusters.isError) {
    return (
      <QueryError
        title="Could not load clusters"
        error={clusters.error}
        onRetry={() => void clusters.refetch()}
      />
    );
  }

  if (clusters.data.items.length === 0) {
    return (
      <Paper withBorder p="xl" radius="lg">
        <EmptyState
          icon={<IconServer2 />}
          variant="light"
          title="No clusters yet"
          description="Each cluster you register appears here with its Kubernetes connection, how many sensors report from it, and the ingest key they sign their reports with."
        >
          <Text size="sm" c="dimmed" ta="center" maw={560}>
            {canManage
              ? "Register a cluster, then connect it to Kubernetes with a kubeconfig so Tapfleet watches its nodes; install the sensor from the cluster's page, or give its ingest key to sensors you deploy yourself."
              : "Ask an operator or an admin to register a cluster."}
          </Text>
          {canManage ? (
            <EmptyState.Actions>
              <Button variant="light" onClick={onRegister}>
                Register a cluster
              </Button>
            </EmptyState.Actions>
          ) : null}
        </EmptyState>
      </Paper>
    );
  }

  return (
    <>
      <Paper withBorder radius="md">
        <Table.ScrollContainer minWidth={1040}>
          <Table aria-label="Clusters">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Cluster</Table.Th>
                <Table.Th>Kubernetes</Table.Th>
                <Table.Th>Sensors</Table.Th>
                <Table.Th>Ingest key</Table.Th>
                <Table.Th>Registered</Table.Th>
                {canManage ? <Table.Th>Actions</Table.Th> : null}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {clusters.data.items.map((cluster) => (
                <ClusterRow
                  key={cluster.id}
                  cluster={cluster}
                  canManage={canManage}
                  onRotate={() => setRotateTarget(cluster.id)}
                  onConnect={() => setConnectTarget(cluster)}
                />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Paper>
      <RotateKeyModal clusterId={rotateTarget} onClose={() => setRotateTarget(null)} />
      {canManage ? (
        <ConnectClusterModal
          clusterId={connectTarget?.id ?? null}
          editing={connectTarget?.connection}
          onClose={() => setConnectTarget(null)}
        />
      ) : null}
    </>
  );
}

function ClusterRow({
  cluster,
  canManage,
  onRotate,
  onConnect,
}: {
  cluster: Cluster;
  canManage: boolean;
  onRotate: () => void;
  onConnect: () => void;
}) {
  // The list holds keys still accepted: the current one (no retirement date) and any in their grace period.
  const current = cluster.keys.find((key) => key.retiresAt === null) ?? cluster.keys[0];
  const retiring = cluster.keys.filter((key) => key.retiresAt !== null);
  return (
    <Table.Tr>
      <Table.Td>
        <Anchor component={Link} href={`/clusters/${encodeURIComponent(cluster.id)}`} size="sm" fw={600}>
          {cluster.displayName ?? cluster.id}
        </Anchor>
        {cluster.displayName ? (
          <Text size="xs" c="dimmed" ff="monospace">
            {cluster.id}
          </Text>
        ) : null}
      </Table.Td>
      <Table.Td>
        <ConnectionStatus connection={cluster.connection} />
      </Table.Td>
      <Table.Td>
        {cluster.sensorCount > 0 ? (
          <Button
            component={Link}
            href={`/sensors?cluster=${encodeURIComponent(cluster.id)}`}
            variant="subtle"
            size="compact-sm"
          >
            {cluster.sensorCount} {cluster.sensorCount === 1 ? "sensor" : "sensors"}
          </Button>
        ) : (
          <Badge color="orange">No sensors yet</Badge>
        )}
      </Table.Td>
      <Table.Td>
        {current ? (
          <Stack gap={2}>
            <Code>{current.keyId}</Code>
            <Text size="xs" c="dimmed">
              {current.lastUsedAt ? (
                <>
                  Used <DateTime iso={current.lastUsedAt} relative />
                </>
              ) : (
                "Not used yet"
              )}
              {retiring[0]?.retiresAt ? (
                <>
                  {` · ${retiring.length} old ${retiring.length === 1 ? "key" : "keys"} accepted until `}
                  <DateTime iso={retiring[0].retiresAt} />
                </>
              ) : null}
            </Text>
          </Stack>
        ) : (
          <Badge color="red">No valid key</Badge>
        )}
      </Table.Td>
      <Table.Td>
        <Text size="sm">
          <DateTime iso={cluster.createdAt} />
        </Text>
      </Table.Td>
      {canManage ? (
        <Table.Td>
          <Group gap="xs" wrap="nowrap">
            <ConnectionActions clusterId={cluster.id} connection={cluster.connection} onConnect={onConnect} />
            <Button size="xs" variant="default" onClick={onRotate}>
              Rotate key
            </Button>
          </Group>
        </Table.Td>
      ) : null}
    </Table.Tr>
  );
}
