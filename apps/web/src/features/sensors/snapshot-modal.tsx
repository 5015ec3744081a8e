"use client";

import {
  Anchor,
  Badge,
  Button,
  Fieldset,
  Group,
  Modal,
  NumberInput,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { SNAPSHOT_LIMITS, ZPcapSnapshotParamsSchema } from "@tapfleet/sensor/actions";
import { useState, type FormEvent } from "react";
import { useCurrentUser } from "@/components/current-user";
import { FormError, QueryError } from "@/components/status-blocks";
import { asSentence, fieldErrors } from "@/lib/api-errors";
import { formatBytes, formatCount, formatRelative } from "@/lib/format";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";

type Action = RouterOutputs["sensors"]["actions"]["items"][number];
type Field = "durationSeconds" | "filter" | "interface" | "maxPackets";

/** The fields this form sends, checked with the sensor contract's own schema, as the server does. */
const ZSnapshotFormSchema = ZPcapSnapshotParamsSchema.pick({
  durationSeconds: true,
  filter: true,
  interface: true,
  maxPackets: true,
});

/** The Select's value for "every interface": ":" cannot occur in an interface name. */
const ALL_INTERFACES = ":all";

/** A sensor as the dialog needs it: the interfaces of its latest report are the ones it offers. */
export interface SnapshotSensor {
  id: string;
  podName: string;
  nodeName: string;
  lastSummary: { interfaces: { name: string }[] } | null;
}

const statusColors: Record<Action["status"], string> = {
  pending: "gray",
  delivered: "blue",
  succeeded: "green",
  failed: "red",
  expired: "orange",
};

const statusHelp: Record<Action["status"], string> = {
  pending: "Waiting for the agent's next poll (ANTIGENA_TIME_PERIOD).",
  delivered: "The agent has it and is capturing or uploading.",
  succeeded: "The pcap is ready to download.",
  failed: "The agent could not run it; see the reason.",
  expired: "Not picked up, or no result in time.",
};

/**
 * Asks one sensor for a pcap of N seconds of traffic matching a BPF filter (Antigena), and lists
 * its recent snapshots with their status and download links.
 */
export function SnapshotModal({ sensor, onClose }: { sensor: SnapshotSensor | null; onClose: () => void }) {
  return (
    <Modal
      opened={sensor !== null}
      onClose={onClose}
      title={sensor ? `Packet snapshot from ${sensor.podName} (node ${sensor.nodeName})` : ""}
      size="xl"
    >
      {sensor ? (
        <SnapshotPanel
          sensorId={sensor.id}
          interfaces={(sensor.lastSummary?.interfaces ?? []).map((captured) => captured.name)}
        />
      ) : null}
    </Modal>
  );
}

function SnapshotPanel({ sensorId, interfaces }: { sensorId: string; interfaces: string[] }) {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const actionsOptions = trpc.sensors.actions.queryOptions({ id: sensorId, limit: 20 });
  const actions = useQuery({
    ...actionsOptions,
    // While something is open, follow it; otherwise the list does not change by itself.
    refetchInterval: (query) =>
      query.state.data?.items.some((item) => item.status === "pending" || item.status === "delivered")
        ? 2000
        : false,
  });
  return (
    <Stack gap="lg">
      {roleAtLeast(user.role, "operator") ? (
        <SnapshotForm sensorId={sensorId} interfaces={interfaces} actionsKey={actionsOptions.queryKey} />
      ) : (
        <Text size="sm" c="dimmed">
          Requesting a snapshot needs the operator role; you have {user.role}. You can download the results
          below.
        </Text>
      )}
      <Stack gap="xs">
        <Title order={4}>Recent snapshots</Title>
        {actions.isError ? (
          <QueryError
            title="Could not load the snapshots"
            error={actions.error}
            onRetry={() => void actions.refetch()}
          />
        ) : actions.data && actions.data.items.length > 0 ? (
          <ActionsTable items={actions.data.items} />
        ) : (
          <Text size="sm" c="dimmed">
            {actions.isPending ? "Loading…" : "No snapshots yet."}
          </Text>
        )}
      </Stack>
    </Stack>
  );
}

function SnapshotForm({
  sensorId,
  interfaces,
  actionsKey,
}: {
  sensorId: string;
  interfaces: string[];
  actionsKey: readonly unknown[];
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [durationSeconds, setDuration] = useState<number | string>(SNAPSHOT_LIMITS.durationSeconds.default);
  const [filter, setFilter] = useState("");
  const [device, setDevice] = useState(ALL_INTERFACES);
  const [maxPackets, setMaxPackets] = useState<number | string>(SNAPSHOT_LIMITS.maxPackets.default);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});

  const request = useMutation(
    trpc.sensors.requestSnapshot.mutationOptions({
      onSuccess: async () => {
        setErrors({});
        await queryClient.invalidateQueries({ queryKey: actionsKey });
      },
      onError: (error) => setErrors(fieldErrors(error)),
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    // What was typed is checked as it is, never clamped into range: an out-of-range value is
    // named at its field and nothing is sent.
    const found: Partial<Record<Field, string>> = {};
    if (typeof durationSeconds !== "number") found.durationSeconds = "Enter a number of seconds.";
    if (typeof maxPackets !== "number") found.maxPackets = "Enter a number of packets.";
    const parsed = ZSnapshotFormSchema.safeParse({
      durationSeconds,
      filter: filter.trim(),
      maxPackets,
      ...(device === ALL_INTERFACES ? {} : { interface: device }),
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] as Field;
        found[field] ??= asSentence(issue.message);
      }
    }
    setErrors(found);
    if (!parsed.success || Object.keys(found).length > 0) return;
    request.mutate({ id: sensorId, ...parsed.data });
  }

  const generalError = request.isError && Object.keys(errors).length === 0 ? request.error : null;
  return (
    <form onSubmit={submit} noValidate>
      <Fieldset variant="unstyled" disabled={request.isPending}>
        <Stack gap="sm">
          <Text size="sm">
            The agent captures for the given time, with this filter on top of the sensor&apos;s own BPF, and
            uploads one pcap file. It picks the request up at its next poll.
          </Text>
          <TextInput
            label="BPF filter"
            description="pcap-filter syntax; empty keeps everything the sensor captures."
            placeholder="udp port 53"
            styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
            value={filter}
            error={errors.filter}
            onChange={(event) => setFilter(event.currentTarget.value)}
          />
          <Group grow align="flex-start">
            <NumberInput
              label="Duration (seconds)"
              description={`${SNAPSHOT_LIMITS.durationSeconds.min}–${SNAPSHOT_LIMITS.durationSeconds.max}`}
              min={SNAPSHOT_LIMITS.durationSeconds.min}
              max={SNAPSHOT_LIMITS.durationSeconds.max}
              clampBehavior="none"
              allowDecimal={false}
              value={durationSeconds}
              error={errors.durationSeconds}
              onChange={setDuration}
            />
            <Select
              label="Interface"
              description="From the sensor's latest report"
              data={[
                { value: ALL_INTERFACES, label: "All captured interfaces" },
                ...interfaces.map((name) => ({ value: name, label: name })),
              ]}
              value={device}
              allowDeselect={false}
              error={errors.interface}
              onChange={(value) => setDevice(value ?? ALL_INTERFACES)}
            />
            <NumberInput
              label="At most (packets)"
              description={`${SNAPSHOT_LIMITS.maxPackets.min}–${SNAPSHOT_LIMITS.maxPackets.max.toLocaleString("en-GB")}`}
              min={SNAPSHOT_LIMITS.maxPackets.min}
              max={SNAPSHOT_LIMITS.maxPackets.max}
              clampBehavior="none"
              allowDecimal={false}
              thousandSeparator=","
              value={maxPackets}
              error={errors.maxPackets}
              onChange={setMaxPackets}
            />
          </Group>
          <FormError error={generalError} />
          <Group justify="flex-end">
            <Button type="submit" loading={request.isPending}>
              Request snapshot
            </Button>
          </Group>
        </Stack>
      </Fieldset>
    </form>
  );
}

function ActionsTable({ items }: { items: Action[] }) {
  return (
    <Table aria-label="Snapshots" tabularNums>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Requested</Table.Th>
          <Table.Th>Filter</Table.Th>
          <Table.Th>Status</Table.Th>
          <Table.Th>Result</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {items.map((item) => (
          <Table.Tr key={item.id}>
            <Table.Td>
              <Text size="sm" title={item.requestedAt}>
                {formatRelative(item.requestedAt)}
              </Text>
              <Text size="xs" c="dimmed">
                by {item.requestedBy.name}
              </Text>
            </Table.Td>
            <Table.Td>
              <Text size="sm" ff="monospace">
                {item.params.filter || "(sensor filter only)"}
              </Text>
              <Text size="xs" c="dimmed">
                {item.params.durationSeconds} s on {item.params.interface ?? "every interface"}
              </Text>
            </Table.Td>
            <Table.Td>
              <Tooltip label={statusHelp[item.status]}>
                <Badge color={statusColors[item.status]}>{item.status}</Badge>
              </Tooltip>
            </Table.Td>
            <Table.Td>
              {item.result?.pcapUrl ? (
                <Anchor href={item.result.pcapUrl} download size="sm">
                  Download {formatCount(item.result.packetCount)} packets (
                  {formatBytes(item.result.pcapBytes)})
                </Anchor>
              ) : (
                <Text size="sm" c={item.status === "failed" || item.status === "expired" ? "red" : "dimmed"}>
                  {item.reason ?? (item.status === "succeeded" ? "File no longer kept" : "—")}
                </Text>
              )}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
