import type { Metadata } from "next";
import { nextNodesCursor, resolveNodesTableScope } from "@/features/cluster-detail/node-filters";
import { NodesPage } from "@/features/nodes/nodes-page";
import { toURLSearchParams } from "@/lib/search-params";
import { getServerQueryClient, getServerTRPC, HydrateClient } from "@/lib/trpc-server";

export const metadata: Metadata = { title: "Nodes" };

/**
 * Rendered on the server with the clusters, the coverage and the table's first page of nodes (as
 * the link filters and sorts them) already read, so the HTML carries the first rows where they will
 * stay: the coverage counts above the table do not fill in (and push it down) after the page loads.
 * A query that fails here is left to the browser, which shows the error as it would have.
 */
export default async function Page({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = toURLSearchParams(await searchParams);
  const trpc = getServerTRPC();
  const queryClient = getServerQueryClient();
  const readNodes = (knownClusterIds: string[] | undefined) =>
    queryClient.prefetchInfiniteQuery(
      trpc.inventory.fleetNodes.infiniteQueryOptions(
        resolveNodesTableScope({ params, knownClusterIds }).input,
        {
          getNextPageParam: nextNodesCursor,
        },
      ),
    );
  const readClusters = queryClient.prefetchQuery(trpc.clusters.list.queryOptions());
  const readCoverage = queryClient.prefetchQuery(trpc.inventory.coverage.queryOptions());
  if (params.has("cluster")) {
    // The link's clusters are checked against the known ones before the table reads them.
    await readClusters;
    const clusters = queryClient.getQueryData(trpc.clusters.list.queryKey());
    if (clusters?.items.some((cluster) => cluster.connection !== null)) {
      await readNodes(clusters.items.map((cluster) => cluster.id));
    }
    await readCoverage;
  } else {
    // Every cluster's nodes: nothing to check, all at once.
    await Promise.all([readClusters, readCoverage, readNodes(undefined)]);
  }
  // No Suspense boundary around the page: it is rendered for each request, so useSearchParams
  // needs none, and one made React stream the table apart from the shell at times and reveal it
  // up to 300 ms after the first paint (its batched reveal of streamed boundaries).
  return (
    <HydrateClient>
      <NodesPage />
    </HydrateClient>
  );
}
