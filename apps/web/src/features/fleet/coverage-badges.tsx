"use client";

import { Badge, Group, Progress, Text, Tooltip } from "@mantine/core";
import { IconClockExclamation } from "@tabler/icons-react";
import { DateTime } from "@/components/date-time";
import { formatDateTime } from "@/lib/format";
import { COVERAGE_STATE_ORDER, COVERAGE_STATE_STYLES, type CoverageState } from "./coverage-states";

/** A coverage state as a badge with its icon; the meaning on hover. */
export function CoverageStateBadge({ state, count }: { state: CoverageState; count?: number }) {
  const style = COVERAGE_STATE_STYLES[state];
  const Icon = style.icon;
  return (
    <Tooltip label={style.meaning}>
      <Badge
        color={style.color}
        variant="light"
        leftSection={<Icon size={12} aria-hidden />}
        data-state={state}
        style={{ textTransform: "none" }}
      >
        {count === undefined ? style.label : `${count} ${style.label}`}
      </Badge>
    </Tooltip>
  );
}

/** The non-zero states of a summary, problems first. */
export function StateCounts({ counts }: { counts: Partial<Record<string, number>> }) {
  const present = COVERAGE_STATE_ORDER.filter((state) => (counts[state] ?? 0) > 0);
  if (present.length === 0)
    return (
      <Text size="sm" c="dimmed">
        No nodes
      </Text>
    );
  return (
    <Group gap={4}>
      {present.map((state) => (
        <CoverageStateBadge key={state} state={state} count={counts[state]} />
      ))}
    </Group>
  );
}

/** Every state's share of the nodes, as one bar. */
export function StateBar({
  counts,
  size = "md",
}: {
  counts: Partial<Record<string, number>>;
  size?: string;
}) {
  const total = COVERAGE_STATE_ORDER.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
  if (total === 0) return <Progress value={0} size={size} aria-label="No nodes" />;
  return (
    <Progress.Root size={size} aria-label="Nodes by coverage state">
      {COVERAGE_STATE_ORDER.filter((state) => (counts[state] ?? 0) > 0).map((state) => (
        <Tooltip key={state} label={`${counts[state]} ${COVERAGE_STATE_STYLES[state].label}`}>
          <Progress.Section
            value={((counts[state] ?? 0) / total) * 100}
            color={COVERAGE_STATE_STYLES[state].color}
          />
        </Tooltip>
      ))}
    </Progress.Root>
  );
}

/** "Stale" with when the data was last confirmed, for figures of an unreachable or resyncing cluster. */
export function StaleMark({ since, size }: { since?: string | null; size?: "xs" | "sm" | "md" }) {
  return (
    <Tooltip
      label={
        since
          ? `Last confirmed ${formatDateTime(since)}: the cluster cannot be reached or is resyncing.`
          : "Not confirmed by the cluster yet: it cannot be reached or is resyncing."
      }
    >
      <Badge
        color="gray"
        variant="outline"
        size={size}
        leftSection={<IconClockExclamation size={size === "xs" ? 10 : 12} aria-hidden />}
      >
        stale
      </Badge>
    </Tooltip>
  );
}

/** "since 3 minutes ago", absolute in the title. */
export function Since({ iso }: { iso: string }) {
  return (
    <Text span size="xs" c="dimmed">
      since <DateTime iso={iso} relative />
    </Text>
  );
}
