import type { Metadata } from "next";
import { NodeDetailPage } from "@/features/nodes/node-detail-page";

export const metadata: Metadata = { title: "Node" };

export default async function Page({ params }: { params: Promise<{ id: string; node: string }> }) {
  const { id, node } = await params;
  return <NodeDetailPage clusterId={decodeURIComponent(id)} nodeName={decodeURIComponent(node)} />;
}
