// The dashboard's server rendering reads through tRPC too (architecture: the dashboard talks to
// the server only through tRPC): over loopback HTTP into the same process, with the request's
// session cookie, so a page arrives with its first data already in the HTML. What it reads is
// handed to the browser's query cache under the same query keys (dehydrate + HydrationBoundary),
// so the client starts with it instead of asking again. Server components only (next/headers).
import type { AppRouter } from "@tapfleet/api";
import { dehydrate, HydrationBoundary, QueryClient } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { headers } from "next/headers";
import { cache, type ReactNode } from "react";
import { readInternalUrl } from "@/env";

/** One query cache per request (React's `cache` is per server request): nothing is shared between people. */
export const getServerQueryClient = cache(() => new QueryClient());

/** tRPC query options for the server's render of this request, with the request's session. */
export const getServerTRPC = cache(() =>
  createTRPCOptionsProxy<AppRouter>({
    queryClient: getServerQueryClient,
    client: createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url: `${readInternalUrl()}/trpc`,
          // Only the session travels: the rest of the browser's headers mean nothing to this hop.
          headers: async () => {
            const cookie = (await headers()).get("cookie");
            return cookie ? { cookie } : {};
          },
        }),
      ],
    }),
  }),
);

/** Hands what this request's render read to the browser's query cache. */
export function HydrateClient({ children }: { children: ReactNode }) {
  return <HydrationBoundary state={dehydrate(getServerQueryClient())}>{children}</HydrationBoundary>;
}
