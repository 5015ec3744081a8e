// The dashboard's only way to the server: tRPC over same-origin HTTP. Types come from the
// router; nothing of the server is imported at runtime.
import type { AppRouter } from "@tapfleet/api";
import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import {
  createTRPCClient,
  httpBatchLink,
  httpBatchStreamLink,
  httpLink,
  httpSubscriptionLink,
  isTRPCClientError,
  splitLink,
  type TRPCClientErrorLike,
} from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";

export type { AppRouter };
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type ApiError = TRPCClientErrorLike<AppRouter>;

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

// Served by the same Fastify process, so a relative URL keeps cookies first-party and needs no CORS.
const trpcUrl = "/trpc";

const sameOriginFetch = (url: URL | RequestInfo, init?: RequestInit) =>
  fetch(url, { ...init, credentials: "same-origin" });

export function createApiClient() {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        // Server-sent events; EventSource sends same-origin cookies by default.
        true: httpSubscriptionLink({ url: trpcUrl }),
        false: splitLink({
          // The server refuses auth.login inside a batch (one sign-in attempt per request).
          condition: (op) => op.path === "auth.login",
          true: httpLink({ url: trpcUrl, fetch: sameOriginFetch }),
          false: splitLink({
            // Queries read together (a page's first requests) are answered as a stream, each as soon as
            // it is ready, so a slow one (the fleet's coverage) does not hold the others (a cluster's
            // first nodes). Mutations stay on the buffered batch: a streamed answer has sent its
            // headers before the procedure runs, and auth.logout clears the session cookie.
            condition: (op) => op.type === "query",
            true: httpBatchStreamLink({ url: trpcUrl, fetch: sameOriginFetch }),
            false: httpBatchLink({ url: trpcUrl, fetch: sameOriginFetch }),
          }),
        }),
      }),
    ],
  });
}

/**
 * How long an answer read by the server's render of the page counts as fresh in the browser: the
 * page hydrates with it and does not ask again at once (React Query would, at `staleTime: 0`).
 * Longer than a slow hydration on a busy machine; later visits refetch as before.
 */
export const SERVER_RENDERED_FRESH_MS = 10_000;

/** Codes for which asking again cannot help: do not retry, show the error (or redirect) at once. */
const finalCodes = new Set([
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "BAD_REQUEST",
  "CONFLICT",
  "TOO_MANY_REQUESTS",
]);

/** Key prefix of `auth.me`, the query the dashboard shell watches to decide whether to show /login. */
const sessionQueryKey = [["auth", "me"]];

function isFinal(error: unknown): boolean {
  return (
    isTRPCClientError(error) && finalCodes.has(String((error.data as { code?: unknown } | undefined)?.code))
  );
}

function isUnauthorized(error: unknown): boolean {
  return isTRPCClientError(error) && (error.data as { code?: unknown } | undefined)?.code === "UNAUTHORIZED";
}

export function createQueryClient() {
  // A session can end while a page is open (expiry, sign-out elsewhere, user disabled). Any
  // UNAUTHORIZED answer re-checks the session; the shell then sends the person to /login.
  const onError = (error: unknown) => {
    if (isUnauthorized(error)) void queryClient.invalidateQueries({ queryKey: sessionQueryKey });
  };
  const queryClient: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        // Stale at once (React Query's default): every page visit refetches in the background while
        // showing what is cached, so fleet state and a revoked session are noticed without waiting.
        staleTime: 0,
        retry: (failureCount, error) => !isFinal(error) && failureCount < 2,
      },
    },
  });
  return queryClient;
}
