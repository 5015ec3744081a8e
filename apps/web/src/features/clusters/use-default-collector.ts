"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { defaultCollector } from "./agent-enrollment";

/**
 * The collector host and port to offer agents: the server's TAPFLEET_PUBLIC_URL, or a guess from the
 * browser's address while it is unset (`configured` says which).
 */
export function useDefaultCollector(): { host: string; port: string; configured: boolean } {
  const trpc = useTRPC();
  const info = useQuery(trpc.system.info.queryOptions(undefined, { staleTime: Infinity }));
  const configured = info.data?.collector ?? null;
  const location =
    typeof window === "undefined" ? { protocol: "https:", hostname: "", port: "" } : window.location;
  return { ...defaultCollector(location, configured), configured: configured !== null };
}
