"use client";

import { Anchor, Breadcrumbs, Paper, Text, Title } from "@mantine/core";
import Link from "next/link";
import { PageHeader } from "@/components/page-header";
import { SensorKubernetes } from "../sensor-detail/sensor-kubernetes";

/**
 * A node whose agent has not reported (no pod, a pod pending or crash-looping, an excluded node):
 * what the cluster says about its sensor pod, its log and its events. Once the agent reports,
 * the nodes tables open the sensor's own page instead.
 */
export function NodeDetailPage({ clusterId, nodeName }: { clusterId: string; nodeName: string }) {
  return (
    <>
      <Breadcrumbs mb="xs">
        <Anchor component={Link} href="/nodes" size="sm">
          Nodes
        </Anchor>
        <Anchor component={Link} href={`/clusters/${encodeURIComponent(clusterId)}`} size="sm">
          {clusterId}
        </Anchor>
        <Text size="sm">{nodeName}</Text>
      </Breadcrumbs>
      <PageHeader
        title={nodeName}
        description="No agent has reported from this node yet: its sensor pod as the cluster has it now, with its log and events."
      />
      <Paper withBorder p="md" radius="md" component="section" aria-labelledby="kubernetes-heading">
        <Title order={2} size="h4" id="kubernetes-heading" mb="sm">
          Kubernetes
        </Title>
        <SensorKubernetes clusterId={clusterId} nodeName={nodeName} />
      </Paper>
    </>
  );
}
