"use client";

import { QueryError } from "@/components/status-blocks";

// A page that throws while rendering keeps the shell (navigation, sign out) usable around the message.
export default function DashboardError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return <QueryError title="This page failed to load" error={error} onRetry={reset} />;
}
