"use client";

// A sensor's reporting state as the server judged it. The server sends the state and the moment
// the sensor turns silent without another report (`silentAt`); the page only flips the badge when
// that moment passes, so the rule itself lives in one place, on the server.
import { Badge, Tooltip } from "@mantine/core";
import { useEffect, useState } from "react";
import { formatDateTime, formatRelative } from "@/lib/format";
import type { RouterOutputs } from "@/lib/trpc";

export type SensorReporting = RouterOutputs["sensors"]["list"]["items"][number]["reporting"];

/** Silent when the server said so, or once its deadline has passed without a new report. */
export function isSilent(reporting: SensorReporting, now: number): boolean {
  return reporting.state === "silent" || now >= Date.parse(reporting.silentAt);
}

/**
 * The current time, re-rendered at the next upcoming `silentAt` of the given sensors, so a badge
 * flips when a sensor turns silent even if nothing else happens on the page.
 */
export function useSilenceClock(reportings: readonly SensorReporting[]): number {
  const [now, setNow] = useState(() => Date.now());
  const next = reportings
    .filter((reporting) => reporting.state === "reporting")
    .map((reporting) => Date.parse(reporting.silentAt))
    .filter((at) => at > now)
    .reduce((soonest, at) => Math.min(soonest, at), Number.POSITIVE_INFINITY);
  useEffect(() => {
    if (!Number.isFinite(next)) return;
    // setTimeout takes at most 2^31-1 ms; a deadline further away is re-armed after a render.
    const timer = setTimeout(() => setNow(Date.now()), Math.min(next - Date.now() + 50, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [next]);
  return now;
}

/** "Reporting" or "Silent", with when it turned (or turns) silent one hover away. */
export function ReportingBadge({
  reporting,
  reportIntervalSeconds,
  now,
}: {
  reporting: SensorReporting;
  reportIntervalSeconds: number | null;
  now: number;
}) {
  const silent = isSilent(reporting, now);
  const interval =
    reportIntervalSeconds === null ? "the agent's default interval" : `every ${reportIntervalSeconds} s`;
  const label = silent
    ? `Silent since ${formatDateTime(reporting.silentSince ?? reporting.silentAt)}: three reports missed (it reports ${interval}).`
    : `Reports ${interval}; silent ${formatRelative(reporting.silentAt, new Date(now))} (${formatDateTime(reporting.silentAt)}) without a new one.`;
  return (
    <Tooltip label={label} multiline maw={320}>
      <Badge color={silent ? "orange" : "green"} variant={silent ? "filled" : "light"}>
        {silent ? "Silent" : "Reporting"}
      </Badge>
    </Tooltip>
  );
}
