import { IconAdjustmentsHorizontal } from "@tabler/icons-react";
import type { Metadata } from "next";
import { EmptyPage } from "@/components/empty-page";

export const metadata: Metadata = { title: "Configuration" };

export default function ConfigurationPage() {
  return (
    <EmptyPage
      title="Configuration"
      description="Sensor settings, kept as versioned profiles."
      icon={<IconAdjustmentsHorizontal />}
      emptyTitle="No configuration profiles yet"
      whatAppears="Configuration profiles hold the settings sensors start with (capture interfaces, proxy, debug level and security options) with a history of every revision."
      nextStep="Once a cluster is connected, create a profile or import the YAML of a sensor DaemonSet you already run. Applying a revision redeploys the sensors."
      action={{ label: "Go to Clusters", href: "/clusters" }}
    />
  );
}
