import { IconRocket } from "@tabler/icons-react";
import type { Metadata } from "next";
import { EmptyPage } from "@/components/empty-page";

export const metadata: Metadata = { title: "Rollouts" };

export default function RolloutsPage() {
  return (
    <EmptyPage
      title="Rollouts"
      description="Configuration changes on their way to the sensors."
      icon={<IconRocket />}
      emptyTitle="No rollouts yet"
      whatAppears="When a configuration revision is applied to a cluster, its rollout appears here with its progress node by node and its outcome."
      nextStep="Rollouts start from the Configuration page when you apply a revision."
      action={{ label: "Go to Configuration", href: "/configuration" }}
    />
  );
}
