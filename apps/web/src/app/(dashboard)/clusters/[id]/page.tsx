import type { Metadata } from "next";
import { ClusterDetailPage } from "@/features/cluster-detail/cluster-detail-page";
import { nextNodesCursor, resolveNodesTableScope } from "@/features/cluster-detail/node-filters";
import { toURLSearchParams } from "@/lib/search-params";
import { getServerQueryClient, getServerTRPC, HydrateClient } from "@/lib/trpc-server";

export const metadata: Metadata = { title: "Cluster" };

/**
 * Rendered on the server with the cluster, its coverage and the first page of its nodes (as the
 * link filters and sorts them) already read, so the HTML carries the whole page as it will stay:
 * nothing above the nodes table grows once the browser takes over (a section that filled in then
 * pushed the table's filters down under a user's click, and their menu opened off screen). A
 * query that fails here is left to the browser, which shows the error as it would have.
 */
export default async function Page({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { id } = await params;
  const clusterId = decodeURIComponent(id);
  const { input } = resolveNodesTableScope({ params: toURLSearchParams(await searchParams), clusterId });
  const trpc = getServerTRPC();
  const queryClient = getServerQueryClient();
  await Promise.all([
    queryClient.prefetchQuery(trpc.clusters.get.queryOptions({ id: clusterId })),
    queryClient.prefetchQuery(trpc.inventory.coverage.queryOptions({ clusterId })),
    queryClient.prefetchInfiniteQuery(
      trpc.inventory.fleetNodes.infiniteQueryOptions(input, { getNextPageParam: nextNodesCursor }),
    ),
  ]);
  return (
    <HydrateClient>
      <ClusterDetailPage clusterId={clusterId} />
    </HydrateClient>
  );
}
