import type { Metadata } from "next";
import { ClusterDetailPage } from "@/features/cluster-detail/cluster-detail-page";

export const metadata: Metadata = { title: "Cluster" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <ClusterDetailPage clusterId={decodeURIComponent(id)} />;
}
