"use client";

// The demo launcher's controls: "Start a demo" for an admin on the empty Fleet
// page, and while the demo runs a notice saying where its agents' packets come
// from, the kubectl command for each simulated cluster (its kubeconfig file on
// the server), and a button that stops it and removes everything it made.

import { ActionIcon, Alert, Button, Code, CopyButton, Group, Stack, Text, Tooltip } from "@mantine/core";
import { IconCheck, IconCopy, IconPlayerPlay, IconTestPipe } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useCurrentUser } from "@/components/current-user";
import { errorMessage } from "@/lib/api-errors";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";

type DemoStatus = RouterOutputs["demo"]["status"];

const trafficWords: Record<NonNullable<DemoStatus["traffic"]>, string> = {
  "network-namespaces":
    "Each simulated node captures real traffic on a veth pair in a network namespace of its own.",
  "pcap-replay":
    "The server does not run as root, so each agent replays a bundled capture at its own pace through libpcap's offline reader.",
};

const troubleWords: Record<DemoStatus["trouble"][number]["kind"], string> = {
  "excluded-by-taint": "excluded by a taint",
  "crash-looping": "crash-looping",
  silent: "silent",
};

function useDemo() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const isAdmin = roleAtLeast(useCurrentUser().role, "admin");
  const status = useQuery({ ...trpc.demo.status.queryOptions(), enabled: isAdmin });
  const refresh = () => queryClient.invalidateQueries();
  return { trpc, isAdmin, status, refresh };
}

/** Shown to admins where the fleet is empty; starts two simulated clusters with real agents. */
export function StartDemoButton() {
  const { trpc, isAdmin, status, refresh } = useDemo();
  const [error, setError] = useState<string | null>(null);
  const start = useMutation(
    trpc.demo.start.mutationOptions({
      onMutate: () => setError(null),
      onSuccess: refresh,
      onError: (cause) => setError(errorMessage(cause)),
    }),
  );
  if (!isAdmin || status.data === undefined || status.data.state === "unavailable") return null;
  return (
    <>
      <Button
        leftSection={<IconPlayerPlay size={16} />}
        loading={start.isPending || status.data.state === "starting"}
        onClick={() => start.mutate({})}
      >
        Start a demo
      </Button>
      {error ? (
        <Text size="sm" c="red" role="alert">
          The demo did not start: {error}
        </Text>
      ) : null}
    </>
  );
}

/** While the demo runs: what it is, where its packets come from, and how to stop it. */
export function DemoNotice() {
  const { trpc, isAdmin, status, refresh } = useDemo();
  const stop = useMutation(trpc.demo.stop.mutationOptions({ onSuccess: refresh }));
  const demo = status.data;
  if (!isAdmin || demo === undefined || demo.state !== "running" || demo.traffic === null) return null;
  return (
    <Alert
      variant="light"
      color="grape"
      icon={<IconTestPipe />}
      title="Demo running"
      mb="md"
      aria-label="Demo running"
    >
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <div>
          <Text size="sm">
            {demo.clusters.map((cluster) => `${cluster.displayName}: ${cluster.nodes} nodes`).join(" · ")}.{" "}
            {trafficWords[demo.traffic]}
          </Text>
          <Text size="sm" c="dimmed">
            Built-in trouble:{" "}
            {demo.trouble
              .map((item) => `${item.clusterId} ${item.nodeName} ${troubleWords[item.kind]}`)
              .join(", ")}
            .
          </Text>
          <Text size="sm" mt="xs">
            kubectl against the simulated clusters (kubeconfig files on the server, removed when the demo
            stops):
          </Text>
          <Stack gap={4} mt={4} aria-label="Demo kubectl commands">
            {demo.clusters.map((cluster) => (
              <Group key={cluster.id} gap="xs" wrap="nowrap">
                <Code style={{ whiteSpace: "pre", overflowX: "auto" }}>{cluster.kubectlCommand}</Code>
                <CopyButton value={cluster.kubectlCommand}>
                  {({ copied, copy }) => (
                    <Tooltip label={copied ? "Copied" : `Copy the command for ${cluster.id}`}>
                      <ActionIcon
                        variant="subtle"
                        color={copied ? "green" : "gray"}
                        aria-label={`Copy the kubectl command for ${cluster.id}`}
                        onClick={copy}
                      >
                        {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                      </ActionIcon>
                    </Tooltip>
                  )}
                </CopyButton>
              </Group>
            ))}
          </Stack>
        </div>
        <Button
          variant="default"
          size="xs"
          style={{ flexShrink: 0 }}
          loading={stop.isPending}
          onClick={() => stop.mutate({})}
        >
          Stop the demo
        </Button>
      </Group>
    </Alert>
  );
}
