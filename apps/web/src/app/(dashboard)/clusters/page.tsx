import type { Metadata } from "next";
import { ClustersPage } from "@/features/clusters/clusters-page";

export const metadata: Metadata = { title: "Clusters" };

export default function Page() {
  return <ClustersPage />;
}
