import { IconBell } from "@tabler/icons-react";
import type { Metadata } from "next";
import { EmptyPage } from "@/components/empty-page";

export const metadata: Metadata = { title: "Alerts" };

export default function AlertsPage() {
  return (
    <EmptyPage
      title="Alerts"
      description="Problems with sensors and coverage that need a person."
      icon={<IconBell />}
      emptyTitle="No alerts"
      whatAppears="Alerts appear here when a sensor stops reporting, drops packets, or a node runs without a sensor, with their severity and the cluster they concern."
      nextStep="Nothing needs your attention. Alerts are raised automatically once clusters are connected and reporting."
      action={{ label: "Go to Fleet", href: "/fleet" }}
    />
  );
}
