"use client";

import { Alert, Anchor, Breadcrumbs, Button, Paper, Text, Title } from "@mantine/core";
import { IconActivity } from "@tabler/icons-react";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { DateTime } from "@/components/date-time";
import { PageHeader } from "@/components/page-header";
import { useTRPC } from "@/lib/trpc";
import { SensorKubernetes } from "../sensor-detail/sensor-kubernetes";
import { summarizeNodeAgent } from "./node-agent";

/**
 * A node of a connected cluster: what the cluster says about its sensor pod, its log and its
 * events, and whether its agent reports (then its sensor's page has the live charts). The nodes
 * tables open the sensor's page directly once the agent reports; a link, or a node that started
 * reporting since the table was read, lands here.
 */
export function NodeDetailPage({ clusterId, nodeName }: { clusterId: string; nodeName: string }) {
  const trpc = useTRPC();
  const cluster = useQuery({ ...trpc.clusters.get.queryOptions({ id: clusterId }), retry: false });
  // The same query as the Kubernetes section below (one request; it refreshes on the node's changes).
  const status = useQuery({ ...trpc.kube.podStatus.queryOptions({ clusterId, nodeName }), retry: false });
  const agent = status.data ? summarizeNodeAgent(status.data.daemonSets) : null;
  return (
    <>
      <Breadcrumbs mb="xs">
        <Anchor component={Link} href="/nodes" size="sm">
          Nodes
        </Anchor>
        <Anchor component={Link} href={`/clusters/${encodeURIComponent(clusterId)}`} size="sm">
          {cluster.data?.displayName ?? clusterId}
        </Anchor>
        <Text size="sm">{nodeName}</Text>
      </Breadcrumbs>
      <PageHeader
        title={nodeName}
        description={agent?.text ?? "Its sensor pod as the cluster has it now, with its log and events."}
        actions={
          agent && agent.kind !== "none" ? (
            <Button
              component={Link}
              href={`/sensors/${agent.sensorId}`}
              leftSection={<IconActivity size={16} />}
              variant={agent.kind === "reporting" ? "filled" : "light"}
            >
              Open its sensor
            </Button>
          ) : null
        }
      />
      {agent?.kind === "silent" ? (
        <Alert color="orange" mb="md" title="The agent is not reporting">
          Its last report arrived <DateTime iso={agent.lastSeenAt} relative />.
        </Alert>
      ) : null}
      <Paper withBorder p="md" radius="md" component="section" aria-labelledby="kubernetes-heading">
        <Title order={2} size="h4" id="kubernetes-heading" mb="sm">
          Kubernetes
        </Title>
        <SensorKubernetes clusterId={clusterId} nodeName={nodeName} />
      </Paper>
    </>
  );
}
