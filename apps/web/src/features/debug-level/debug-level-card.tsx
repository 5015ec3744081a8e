"use client";

import { Alert, Badge, Button, Group, NumberInput, Paper, Select, Stack, Text } from "@mantine/core";
import { useInterval } from "@mantine/hooks";
import { IconBug } from "@tabler/icons-react";
import {
  DEBUG_LEVEL_MINUTES,
  ZDebugLevelMinutesSchema,
  ZDebugLevelSchema,
} from "@tapfleet/sensor/debug-level";
import { DEBUG_LEVEL } from "@tapfleet/sensor/settings";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { errorMessage, fieldErrors } from "@/lib/api-errors";
import { useLiveQuery } from "@/lib/use-live-query";
import { useTRPC } from "@/lib/trpc";
import { debugLevelLabel, settledDebugLevelLine } from "./debug-level-wording";

const LEVELS = Array.from({ length: DEBUG_LEVEL.max - DEBUG_LEVEL.min + 1 }, (_, i) =>
  String(DEBUG_LEVEL.min + i),
);

const STATUS_COLOR: Record<string, string> = {
  applying: "blue",
  active: "teal",
  reverting: "blue",
  reverted: "gray",
  failed: "red",
};

/** "12:05" or "1:02:05": what is left until `iso`, never negative. */
export function formatTimeLeft(iso: string, nowMs: number): string {
  const total = Math.max(0, Math.round((Date.parse(iso) - nowMs) / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

function firstIssue(result: {
  success: boolean;
  error?: { issues: { message: string }[] };
}): string | undefined {
  return result.success ? undefined : result.error?.issues[0]?.message.replace(/^[a-z]+: /, "");
}

/**
 * The cluster's sensor debug level (OSSENSOR_DEBUG) for a while: the level now,
 * the one it goes back to and the time left, with a form to set one and
 * "Revert now" for operators. Given a `daemonSet` (a sensor page), the card is
 * about that DaemonSet: it sets the level there, and says that a level is a
 * change of the DaemonSet, so every node of it restarts with it.
 */
export function DebugLevelCard({
  clusterId,
  canManage,
  daemonSet,
}: {
  clusterId: string;
  canManage: boolean;
  daemonSet?: { namespace: string; name: string };
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Follows the leader's progress (applying → active → reverting → reverted) on the tab's live
  // stream: each event carries the whole view, which replaces the one shown.
  const { query: current } = useLiveQuery(
    trpc.debugLevel.get.queryOptions({ id: clusterId }),
    { path: "debugLevel.live", input: { id: clusterId } },
    (_data, event) => event.debugLevel,
  );
  const [now, setNow] = useState(() => Date.now());
  const ticker = useInterval(() => setNow(Date.now()), 1_000);
  useEffect(() => {
    ticker.start();
    return ticker.stop;
  }, [ticker]);

  const [level, setLevel] = useState<string | null>("3");
  const [minutes, setMinutes] = useState<number | string>(DEBUG_LEVEL_MINUTES.default);
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.debugLevel.get.queryKey({ id: clusterId }) });
    await queryClient.invalidateQueries({ queryKey: trpc.clusters.get.queryKey({ id: clusterId }) });
  };
  const set = useMutation(trpc.debugLevel.set.mutationOptions({ onSuccess: refresh }));
  const revert = useMutation(trpc.debugLevel.revert.mutationOptions({ onSuccess: refresh }));

  const levelError = firstIssue(ZDebugLevelSchema.safeParse(level === null ? undefined : Number(level)));
  const minutesError = firstIssue(
    ZDebugLevelMinutesSchema.safeParse(typeof minutes === "number" ? minutes : NaN),
  );
  const serverFields = fieldErrors(set.error);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (levelError || minutesError || level === null) return;
    set.mutate({
      id: clusterId,
      level: Number(level),
      minutes: Number(minutes),
      ...(daemonSet ? { daemonSet } : {}),
    });
  }

  const last = current.data;
  // On a sensor page, a level of another DaemonSet of the cluster is not this one's.
  const elsewhere =
    daemonSet &&
    last &&
    (last.daemonSet.namespace !== daemonSet.namespace || last.daemonSet.name !== daemonSet.name)
      ? last
      : null;
  const data = elsewhere ? null : last;
  const pending =
    data && (data.status === "applying" || data.status === "active" || data.status === "reverting");
  const elsewherePending =
    elsewhere &&
    (elsewhere.status === "applying" || elsewhere.status === "active" || elsewhere.status === "reverting");

  return (
    <Paper withBorder p="md" radius="md" role="group" aria-label="Debug level" mt="md">
      <Group justify="space-between" mb="xs">
        <Group gap={6}>
          <IconBug size={16} />
          <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
            Debug level
          </Text>
        </Group>
        {data ? (
          <Badge color={STATUS_COLOR[data.status] ?? "gray"} variant="light" aria-label="Debug level status">
            {data.status}
          </Badge>
        ) : null}
      </Group>

      {daemonSet ? (
        <Text size="sm" mb="xs" data-testid="debug-level-scope">
          Applies to every node of DaemonSet{" "}
          <Text span ff="monospace" size="sm">
            {daemonSet.namespace}/{daemonSet.name}
          </Text>
          , not only this one: each of its pods restarts with the new level, and again when it goes back.
        </Text>
      ) : null}
      {elsewherePending ? (
        <Alert color="blue" p="xs" mb="sm">
          Level {elsewhere.level} is set on another sensor DaemonSet of this cluster,{" "}
          {elsewhere.daemonSet.namespace}/{elsewhere.daemonSet.name}; revert it there before setting one here.
        </Alert>
      ) : null}
      {current.isError ? (
        <Text size="sm" c="red">
          {errorMessage(current.error)}
        </Text>
      ) : !data || !pending ? (
        <Text size="sm" c="dimmed" mb="sm">
          {data
            ? settledDebugLevelLine(data)
            : `The ${daemonSet ? "sensor runs" : "sensors run"} at ${daemonSet ? "its" : "their"} configured level. Raise it for a while to see more in the pod ${daemonSet ? "log below" : "logs"}; Tapfleet puts it back by itself.`}
        </Text>
      ) : (
        <Stack gap={4} mb="sm">
          <Group gap="xl">
            <div>
              <Text size="xs" c="dimmed">
                Level
              </Text>
              <Text fz={28} fw={700} lh={1.2} data-testid="debug-level-current">
                {data.level}
              </Text>
            </div>
            <div>
              <Text size="xs" c="dimmed">
                Goes back to
              </Text>
              <Text fz={28} fw={700} lh={1.2} data-testid="debug-level-previous">
                {debugLevelLabel(data.previousLevel)}
              </Text>
            </div>
            <div>
              <Text size="xs" c="dimmed">
                Time left
              </Text>
              <Text fz={28} fw={700} lh={1.2} ff="monospace" data-testid="debug-level-time-left">
                {data.status === "reverting" ? "0:00" : formatTimeLeft(data.revertsAt, now)}
              </Text>
            </div>
          </Group>
          <Text size="xs" c="dimmed">
            On {data.daemonSet.namespace}/{data.daemonSet.name} ({data.container}), set by {data.setBy}
          </Text>
        </Stack>
      )}
      {data?.lastError ? (
        <Alert color={data.status === "failed" ? "red" : "orange"} p="xs" mb="sm">
          {data.lastError}
        </Alert>
      ) : null}

      {canManage ? (
        <form onSubmit={submit} noValidate>
          <Group align="flex-start" gap="sm">
            <Select
              label="Level"
              data={LEVELS}
              value={level}
              onChange={setLevel}
              allowDeselect={false}
              w={90}
              error={levelError ?? serverFields.level}
            />
            <NumberInput
              label="For (minutes)"
              min={DEBUG_LEVEL_MINUTES.min}
              max={DEBUG_LEVEL_MINUTES.max}
              clampBehavior="none"
              value={minutes}
              onChange={setMinutes}
              w={140}
              error={minutesError ?? serverFields.minutes}
            />
            <Button type="submit" mt={25} loading={set.isPending}>
              {pending ? "Replace" : "Set level"}
            </Button>
            {pending && data.status !== "reverting" ? (
              <Button
                variant="default"
                mt={25}
                loading={revert.isPending}
                onClick={() => revert.mutate({ id: clusterId })}
              >
                Revert now
              </Button>
            ) : null}
          </Group>
          {set.isError && !serverFields.level && !serverFields.minutes ? (
            <Text size="sm" c="red" mt="xs" role="alert">
              {errorMessage(set.error)}
            </Text>
          ) : null}
          {revert.isError ? (
            <Text size="sm" c="red" mt="xs" role="alert">
              {errorMessage(revert.error)}
            </Text>
          ) : null}
        </form>
      ) : null}
    </Paper>
  );
}
