import { IconServer2 } from "@tabler/icons-react";
import type { Metadata } from "next";
import { EmptyPage } from "@/components/empty-page";

export const metadata: Metadata = { title: "Clusters" };

export default function ClustersPage() {
  return (
    <EmptyPage
      title="Clusters"
      description="The Kubernetes clusters Tapfleet watches."
      icon={<IconServer2 />}
      emptyTitle="No clusters registered yet"
      whatAppears="Clusters you connect appear here with their sensor coverage (nodes with a running sensor versus nodes without one) and the state of Tapfleet's connection to each API server."
      nextStep="To connect a cluster, Tapfleet needs a kubeconfig that reaches its API server. Pipelines and the tapfleet CLI do this with an API token."
      action={{ label: "Create an API token", href: "/settings/tokens" }}
    />
  );
}
