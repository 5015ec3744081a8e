import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { DashboardShell } from "@/components/dashboard-shell";
import { getServerQueryClient, getServerTRPC, HydrateClient } from "@/lib/trpc-server";

/** The address the browser asked for (the server passes it on), without Next's own RSC marker. */
async function requestedPath(): Promise<string> {
  const url = new URL((await headers()).get("x-tapfleet-path") ?? "/fleet", "http://dashboard");
  url.searchParams.delete("_rsc");
  return `${url.pathname}${url.search}`;
}

/**
 * Every signed-in page: the session is read here, on the server, before anything renders, and
 * handed to the dashboard shell with the HTML. Without a session the answer is the sign-in page,
 * which comes back here (`next`) after signing in.
 */
export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const trpc = getServerTRPC();
  const queryClient = getServerQueryClient();
  const [me] = await Promise.all([
    queryClient.fetchQuery(trpc.auth.me.queryOptions()),
    // The version line under the navigation; an error here is the browser's to retry.
    queryClient.prefetchQuery(trpc.system.info.queryOptions()),
  ]);
  if (!me.user) redirect(`/login?next=${encodeURIComponent(await requestedPath())}`);
  return (
    <HydrateClient>
      <DashboardShell>{children}</DashboardShell>
    </HydrateClient>
  );
}
