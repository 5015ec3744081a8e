import { IconRadar } from "@tabler/icons-react";
import type { Metadata } from "next";
import { EmptyPage } from "@/components/empty-page";

export const metadata: Metadata = { title: "Fleet" };

export default function FleetPage() {
  return (
    <EmptyPage
      title="Fleet"
      description="Every sensor across every cluster, at a glance."
      icon={<IconRadar />}
      emptyTitle="No sensors reporting yet"
      whatAppears="This overview will show your whole fleet: how many sensors run in each cluster, their capture and drop rates, and the nodes that have no sensor."
      nextStep="Connect a cluster first. Its sensors appear here as soon as they report their first statistics."
      action={{ label: "Go to Clusters", href: "/clusters" }}
    />
  );
}
