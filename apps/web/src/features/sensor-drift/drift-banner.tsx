"use client";

// The drift banner of the cluster page's sensor section: each sensor DaemonSet
// Tapfleet answers for that was changed outside Tapfleet, with the differences
// by setting (what Tapfleet applied, what the cluster has) and the two ways
// out — restore (operators) and adopt as a new profile revision (admins). The
// leader's verdicts arrive live, within seconds of the change.

import { Alert, Button, Code, Group, Modal, Stack, Table, Text, TextInput, Textarea } from "@mantine/core";
import { IconArrowBackUp, IconCheck, IconGitCommit } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useCurrentUser } from "@/components/current-user";
import { WhyDisabled } from "@/components/why-disabled";
import { formatDateTime } from "@/lib/format";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { useLiveFeed } from "@/lib/use-live-feed";

type Drift = RouterOutputs["sensorDrift"]["get"]["drifts"][number];
type Change = Drift["changes"][number];

const KIND_LABEL: Record<Change["kind"], string> = {
  setting: "Setting",
  variable: "Variable",
  image: "Image",
  security: "Security",
  container: "Container",
};

function Value({ value, fallback }: { value: string | null; fallback: string | null }) {
  if (value !== null) return <Code>{value === "" ? '""' : value}</Code>;
  return (
    <Text span size="sm" c="dimmed">
      {fallback === null ? "not set" : `not set (default ${fallback === "" ? "empty" : fallback})`}
    </Text>
  );
}

export function SensorDriftBanner({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const canRestore = roleAtLeast(user.role, "operator");
  const canAdopt = roleAtLeast(user.role, "admin");
  const driftKey = trpc.sensorDrift.get.queryKey({ id: clusterId });
  const drift = useQuery(trpc.sensorDrift.get.queryOptions({ id: clusterId }));
  const status = useQuery(trpc.sensorInstall.status.queryOptions({ id: clusterId }));
  const refreshStatus = () =>
    void queryClient.invalidateQueries({ queryKey: trpc.sensorInstall.status.queryKey() });
  useLiveFeed(
    "sensorDrift.live",
    { clusterId },
    {
      onStarted: () => void queryClient.invalidateQueries({ queryKey: driftKey }),
      onData: (message) => {
        queryClient.setQueryData(driftKey, { drifts: message.drifts });
        refreshStatus();
      },
    },
  );
  const [adopting, setAdopting] = useState<Drift | null>(null);
  const settle = (answer: { drifts: Drift[] }) => {
    queryClient.setQueryData(driftKey, { drifts: answer.drifts });
    refreshStatus();
  };
  const restore = useMutation(trpc.sensorDrift.restore.mutationOptions({ onSuccess: settle }));

  const drifted = (drift.data?.drifts ?? []).filter((item) => item.state !== "in-sync");
  if (drifted.length === 0)
    return restore.isSuccess ? (
      <Alert color="green" icon={<IconCheck size={16} />} mb="xs" title="Restored">
        The DaemonSet is back to what Tapfleet applied; its pods are redeploying.
      </Alert>
    ) : null;

  return (
    <Stack gap="xs" mb="xs">
      {drifted.map((item) => {
        const where = `${item.daemonSet.namespace}/${item.daemonSet.name}`;
        if (item.state === "missing")
          return (
            <Alert key={where} color="red" title={`DaemonSet ${where} is gone`}>
              Tapfleet {item.tracked === "debug-level" ? "set a debug level on" : item.tracked} it; it has
              been missing since {formatDateTime(item.since)}.
            </Alert>
          );
        const onlyDebugLevel = item.tracked === "debug-level";
        const adoptReason = !canAdopt
          ? "Adopting needs an admin."
          : onlyDebugLevel
            ? "Tapfleet only set a debug level here: adopt the DaemonSet first."
            : null;
        const restoreReason = canRestore ? null : "Restoring needs an operator.";
        return (
          <Alert
            key={where}
            color="orange"
            role="region"
            aria-label="Drift"
            title={`Drift: DaemonSet ${where} was changed outside Tapfleet`}
          >
            <Stack gap="xs">
              <Text size="sm">
                Since {formatDateTime(item.since)}, {item.changes.length}{" "}
                {item.changes.length === 1 ? "difference" : "differences"} from what Tapfleet applied
                {status.data?.profile
                  ? ` (profile ${status.data.profile.name} r${status.data.profile.revision})`
                  : ""}
                .
              </Text>
              <Table withTableBorder withColumnBorders verticalSpacing={4} aria-label="Drift by setting">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Setting</Table.Th>
                    <Table.Th>Applied by Tapfleet</Table.Th>
                    <Table.Th>In the cluster</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {item.changes.map((change) => (
                    <Table.Tr key={`${change.kind}/${change.name}`}>
                      <Table.Td>
                        <Text size="sm" fw={600}>
                          {change.variable ?? change.name}
                        </Text>
                        <Text size="xs" c="dimmed">
                          {KIND_LABEL[change.kind]}
                          {change.variable !== null && change.variable !== change.name
                            ? ` · ${change.name}`
                            : ""}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Value value={change.applied} fallback={change.default} />
                      </Table.Td>
                      <Table.Td>
                        <Value value={change.observed} fallback={change.default} />
                        {change.note ? (
                          <Text size="xs" c="dimmed">
                            {change.note}
                          </Text>
                        ) : null}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Group gap="xs">
                <WhyDisabled reason={restoreReason}>
                  <Button
                    size="xs"
                    leftSection={<IconArrowBackUp size={14} />}
                    disabled={restoreReason !== null}
                    loading={restore.isPending}
                    onClick={() => {
                      if (window.confirm(`Restore DaemonSet ${where}? Its pods redeploy.`))
                        restore.mutate({ id: clusterId, daemonSet: item.daemonSet });
                    }}
                  >
                    Restore
                  </Button>
                </WhyDisabled>
                <WhyDisabled reason={adoptReason}>
                  <Button
                    size="xs"
                    variant="default"
                    leftSection={<IconGitCommit size={14} />}
                    disabled={adoptReason !== null}
                    onClick={() => setAdopting(item)}
                  >
                    Adopt as a new revision
                  </Button>
                </WhyDisabled>
                {(restoreReason ?? adoptReason) ? (
                  <Text size="xs" c="dimmed">
                    {[restoreReason, adoptReason].filter(Boolean).join(" ")}
                  </Text>
                ) : null}
              </Group>
              {restore.error ? (
                <Text size="sm" c="red">
                  {restore.error.message}
                </Text>
              ) : null}
            </Stack>
          </Alert>
        );
      })}
      {adopting ? (
        <AdoptModal
          clusterId={clusterId}
          drift={adopting}
          profile={status.data?.profile ?? null}
          onClose={() => setAdopting(null)}
          onAdopted={(answer) => {
            setAdopting(null);
            settle(answer);
          }}
        />
      ) : null}
    </Stack>
  );
}

function AdoptModal(props: {
  clusterId: string;
  drift: Drift;
  profile: { id: string; name: string; revision: number } | null;
  onClose: () => void;
  onAdopted: (answer: { drifts: Drift[] }) => void;
}) {
  const trpc = useTRPC();
  const [message, setMessage] = useState("");
  const [profileName, setProfileName] = useState("");
  const adopt = useMutation(trpc.sensorDrift.adopt.mutationOptions({ onSuccess: props.onAdopted }));
  const fieldErrors = (
    adopt.error?.data as { zodError?: { fieldErrors?: Record<string, string[]> } } | undefined
  )?.zodError?.fieldErrors;
  return (
    <Modal opened onClose={props.onClose} title="Adopt the drift as a new revision">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          adopt.mutate({
            id: props.clusterId,
            message,
            ...(props.profile === null ? { profileName } : {}),
          });
        }}
      >
        <Stack>
          <Text size="sm">
            {props.profile
              ? `The settings DaemonSet ${props.drift.daemonSet.namespace}/${props.drift.daemonSet.name} runs now become revision r${props.profile.revision + 1} of profile ${props.profile.name}, in force here.`
              : `The sensor runs settings given at install; they become revision r1 of a new profile, in force here.`}{" "}
            Nothing is redeployed.
          </Text>
          {props.profile === null ? (
            <TextInput
              label="New profile"
              description="Lowercase letters, digits and -"
              required
              value={profileName}
              onChange={(event) => setProfileName(event.currentTarget.value)}
              error={fieldErrors?.profileName?.join(" ")}
            />
          ) : null}
          <Textarea
            label="Message"
            description="Why the change made outside Tapfleet is kept"
            required
            autosize
            minRows={2}
            value={message}
            onChange={(event) => setMessage(event.currentTarget.value)}
            error={fieldErrors?.message?.join(" ")}
          />
          {adopt.error && !fieldErrors ? (
            <Alert color="red" title="Adopt refused">
              {adopt.error.message}
            </Alert>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={adopt.isPending}>
              Adopt
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
