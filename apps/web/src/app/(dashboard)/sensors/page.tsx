import { IconAccessPoint } from "@tabler/icons-react";
import type { Metadata } from "next";
import { EmptyPage } from "@/components/empty-page";

export const metadata: Metadata = { title: "Sensors" };

export default function SensorsPage() {
  return (
    <EmptyPage
      title="Sensors"
      description="Sensor pods on every node, with their live capture statistics."
      icon={<IconAccessPoint />}
      emptyTitle="No sensor pods found"
      whatAppears="Each sensor pod appears here with its cluster, node, version, status, debug level, and the packets it captures and drops."
      nextStep="Sensors show up once a cluster is connected and its sensor DaemonSet is running."
      action={{ label: "Go to Clusters", href: "/clusters" }}
    />
  );
}
