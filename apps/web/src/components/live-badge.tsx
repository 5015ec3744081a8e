"use client";

import { Badge, Tooltip } from "@mantine/core";
import { errorMessage } from "@/lib/api-errors";

/**
 * About a page's connection to the server's live stream, not about what it shows: "connected",
 * "interrupted" (with why, on hover) or "connecting", from `useLiveQuery`'s `live`.
 */
export function LiveBadge({
  live,
  connectedHint,
}: {
  live: { status: string; error: unknown };
  connectedHint: string;
}) {
  if (live.status === "pending") {
    return (
      <Tooltip label={connectedHint}>
        <Badge color="blue" variant="light">
          Live updates connected
        </Badge>
      </Tooltip>
    );
  }
  // A dropped stream reconnects by itself ("connecting" with the error that dropped it).
  if (live.status === "error" || (live.status === "connecting" && live.error)) {
    const reason = errorMessage(live.error);
    return (
      <Tooltip label={live.status === "connecting" ? `Reconnecting. ${reason}` : reason}>
        <Badge color="red">Live updates interrupted</Badge>
      </Tooltip>
    );
  }
  return (
    <Badge color="yellow" variant="light">
      Connecting live updates…
    </Badge>
  );
}
