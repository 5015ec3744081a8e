"use client";

import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  Modal,
  Paper,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
  Tooltip,
} from "@mantine/core";
import { useDebouncedValue, useDisclosure } from "@mantine/hooks";
import { IconArrowRight, IconRocket } from "@tabler/icons-react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { useCurrentUser } from "@/components/current-user";
import { DateTime } from "@/components/date-time";
import { PageHeader } from "@/components/page-header";
import { FormError, LoadingBlock, QueryError } from "@/components/status-blocks";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { StartRolloutModal } from "@/features/rollouts/start-rollout-modal";
import { SettingsFields } from "./settings-fields";
import {
  describeFieldErrors,
  formValuesFromSettings,
  formatSettingValue,
  labelOf,
  readSettingsForm,
  type FieldErrors,
} from "./settings-form-state";

type Profile = RouterOutputs["profiles"]["get"];

export function ProfilePage({ profileId }: { profileId: string }) {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const canManage = roleAtLeast(user.role, "admin");
  const canRollOut = roleAtLeast(user.role, "operator");
  const [rolloutOpened, rolloutModal] = useDisclosure(false);
  const profile = useQuery(trpc.profiles.get.queryOptions({ id: profileId }));
  if (profile.isPending) return <LoadingBlock label="Loading the profile…" />;
  if (profile.isError) {
    return (
      <>
        <PageHeader title="Profile" />
        <QueryError
          title="Could not load this profile"
          error={profile.error}
          onRetry={() => void profile.refetch()}
        />
        <Anchor component={Link} href="/configuration" mt="md" display="block">
          Back to Configuration
        </Anchor>
      </>
    );
  }
  const data = profile.data;
  return (
    <>
      <PageHeader
        title={data.name}
        description={
          <>
            {data.description ? `${data.description} · ` : ""}r{data.latestRevision}, saved{" "}
            <DateTime iso={data.updatedAt} /> by {data.updatedBy.name}
          </>
        }
        actions={
          <>
            <Anchor component={Link} href="/configuration" size="sm">
              All profiles
            </Anchor>
            {canRollOut ? (
              <Button leftSection={<IconRocket size={16} />} onClick={rolloutModal.open}>
                Roll out r{data.latestRevision}
              </Button>
            ) : null}
          </>
        }
      />
      {canRollOut ? (
        <StartRolloutModal
          key={data.latestRevision}
          opened={rolloutOpened}
          onClose={rolloutModal.close}
          profileId={data.id}
          revision={data.latestRevision}
        />
      ) : null}
      <Tabs defaultValue="settings" keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="settings">Settings</Tabs.Tab>
          <Tabs.Tab value="history">History ({data.revisions.length})</Tabs.Tab>
          <Tabs.Tab value="overrides">Cluster overrides ({data.overrides.length})</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="settings">
          {/* Remounted on every new revision: the form starts from what was saved. */}
          <SettingsEditor key={data.latestRevision} profile={data} canManage={canManage} />
        </Tabs.Panel>
        <Tabs.Panel value="history">
          <History profile={data} />
        </Tabs.Panel>
        <Tabs.Panel value="overrides">
          <Overrides profile={data} canManage={canManage} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}

// ---- Settings editor --------------------------------------------------------------------------

function SettingsEditor({ profile, canManage }: { profile: Profile; canManage: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const latest = profile.revisions[0]!;
  const [values, setValues] = useState(() => formValuesFromSettings(latest.settings));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState("");
  const save = useMutation(
    trpc.profiles.saveRevision.mutationOptions({
      onSuccess: async () => {
        setMessage("");
        await queryClient.invalidateQueries({ queryKey: trpc.profiles.pathKey() });
      },
    }),
  );
  const read = readSettingsForm(values);
  const change = (key: string, value: string) => {
    const next = { ...values, [key]: value };
    setValues(next);
    const result = readSettingsForm(next);
    setErrors(result.ok ? {} : result.errors);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!read.ok) {
      setErrors(read.errors);
      return;
    }
    save.mutate({
      id: profile.id,
      expectedLatest: latest.number,
      settings: read.settings as never,
      message,
    });
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="lg">
        <SettingsFields values={values} errors={errors} onChange={change} disabled={!canManage} />
        <InterfacePreview profileId={profile.id} settings={read.ok ? read.settings : null} />
        {canManage ? (
          <Paper withBorder p="md" radius="md">
            <Group align="flex-end">
              <TextInput
                label="What changed and why"
                description={`Saved as r${latest.number + 1}; revisions are never changed afterwards.`}
                value={message}
                onChange={(event) => setMessage(event.currentTarget.value)}
                style={{ flex: 1 }}
                required
              />
              <Button type="submit" loading={save.isPending} disabled={!read.ok || message.trim() === ""}>
                Save revision
              </Button>
            </Group>
            {describeFieldErrors(errors) ? (
              <Text size="sm" c="red" mt="xs">
                {describeFieldErrors(errors)}
              </Text>
            ) : null}
            {save.error ? (
              <Stack mt="sm">
                <FormError error={save.error} />
              </Stack>
            ) : null}
          </Paper>
        ) : null}
      </Stack>
    </form>
  );
}

const REASONS: Record<string, string> = {
  loopback: "loopback",
  not_included: "not in the include list",
  excluded: "excluded",
  not_the_device: "not the capture device",
};

function InterfacePreview({
  profileId,
  settings,
}: {
  profileId: string;
  settings: Record<string, unknown> | null;
}) {
  const trpc = useTRPC();
  const [debounced] = useDebouncedValue(settings, 400);
  const preview = useQuery({
    ...trpc.profiles.preview.queryOptions({ id: profileId, settings: (debounced ?? {}) as never }),
    enabled: debounced !== null,
    placeholderData: keepPreviousData,
  });
  return (
    <Paper withBorder p="md" radius="md">
      <Title order={2} size="h4" mb={4}>
        Interface preview
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        What each node would capture with these settings, from the interfaces its agent last reported, with
        each cluster&apos;s override applied.
      </Text>
      {settings === null ? (
        <Text size="sm" c="dimmed">
          Fix the settings above to see the preview.
        </Text>
      ) : preview.isPending ? (
        <LoadingBlock label="Computing the preview…" />
      ) : preview.isError ? (
        <QueryError title="Could not compute the preview" error={preview.error} />
      ) : preview.data.nodes.length === 0 ? (
        <Text size="sm" c="dimmed">
          No agent has reported yet: the preview appears once sensors report.
        </Text>
      ) : (
        <Table aria-label="Interface preview" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Node</Table.Th>
              <Table.Th>Cluster</Table.Th>
              <Table.Th>Interfaces</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {preview.data.nodes.map((node) => {
              const captured = node.interfaces.filter((item) => item.captured).length;
              return (
                <Table.Tr key={`${node.clusterId}/${node.nodeName}`}>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {node.nodeName}
                    </Text>
                    {node.known ? (
                      <Text size="xs" c={captured === 0 ? "red" : "dimmed"}>
                        {captured === 0
                          ? "captures nothing"
                          : `${captured} of ${node.interfaces.length} captured`}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>{node.clusterId}</Table.Td>
                  <Table.Td>
                    {node.known ? (
                      <Group gap={6}>
                        {node.interfaces.map((item) =>
                          item.captured ? (
                            <Badge key={item.name} color="teal" variant="light" tt="none">
                              {item.name}
                            </Badge>
                          ) : (
                            <Tooltip key={item.name} label={REASONS[item.reason ?? ""] ?? "not captured"}>
                              <Badge color="gray" variant="outline" tt="none" td="line-through" opacity={0.6}>
                                {item.name} · {REASONS[item.reason ?? ""] ?? "not captured"}
                              </Badge>
                            </Tooltip>
                          ),
                        )}
                      </Group>
                    ) : (
                      <Text size="sm" c="dimmed">
                        This agent does not report its interfaces (an older version).
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}

// ---- History and diff ------------------------------------------------------------------------

const KIND_COLOR = { added: "teal", changed: "blue", removed: "red" } as const;

function History({ profile }: { profile: Profile }) {
  const trpc = useTRPC();
  const numbers = profile.revisions.map((revision) => String(revision.number));
  const [from, setFrom] = useState(numbers[1] ?? numbers[0] ?? "1");
  const [to, setTo] = useState(numbers[0] ?? "1");
  const diff = useQuery(
    trpc.profiles.diff.queryOptions({ id: profile.id, from: Number(from), to: Number(to) }),
  );
  const options = profile.revisions.map((revision) => ({
    value: String(revision.number),
    label: `r${revision.number} — ${revision.message}`,
  }));
  return (
    <Stack gap="lg">
      <Paper withBorder radius="md">
        <Table aria-label="Revisions" verticalSpacing="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Revision</Table.Th>
              <Table.Th>Message</Table.Th>
              <Table.Th>Author</Table.Th>
              <Table.Th>Saved</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {profile.revisions.map((revision) => (
              <Table.Tr key={revision.number}>
                <Table.Td>
                  <Badge variant="light">r{revision.number}</Badge>
                </Table.Td>
                <Table.Td>{revision.message}</Table.Td>
                <Table.Td>
                  {revision.author.name}{" "}
                  <Text span size="xs" c="dimmed">
                    ({revision.author.type})
                  </Text>
                </Table.Td>
                <Table.Td>
                  <DateTime iso={revision.createdAt} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Paper>
      <Paper withBorder p="md" radius="md">
        <Title order={2} size="h4" mb="sm">
          Compare revisions
        </Title>
        <Group align="flex-end" mb="md">
          <Select
            label="From"
            data={options}
            value={from}
            onChange={(value) => setFrom(value ?? from)}
            allowDeselect={false}
            w={320}
          />
          <IconArrowRight size={18} style={{ marginBottom: 10 }} />
          <Select
            label="To"
            data={options}
            value={to}
            onChange={(value) => setTo(value ?? to)}
            allowDeselect={false}
            w={320}
          />
        </Group>
        {diff.isPending ? (
          <LoadingBlock label="Comparing…" />
        ) : diff.isError ? (
          <QueryError title="Could not compare" error={diff.error} />
        ) : diff.data.changes.length === 0 ? (
          <Text size="sm" c="dimmed">
            r{from} and r{to} configure the sensors identically.
          </Text>
        ) : (
          <Table aria-label="Differences" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Setting</Table.Th>
                <Table.Th>Change</Table.Th>
                <Table.Th>r{from}</Table.Th>
                <Table.Th>r{to}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {diff.data.changes.map((change) => (
                <Table.Tr key={change.setting}>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {labelOf(change.setting)}
                    </Text>
                    <Text size="xs" c="dimmed" ff="monospace">
                      {change.variable}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={KIND_COLOR[change.kind]} variant="light">
                      {change.kind}
                    </Badge>
                  </Table.Td>
                  <Table.Td ff="monospace" c={change.from === null ? "dimmed" : undefined}>
                    {change.from === null
                      ? `default (${formatSettingValue(change.default)})`
                      : formatSettingValue(change.from)}
                  </Table.Td>
                  <Table.Td ff="monospace" c={change.to === null ? "dimmed" : undefined}>
                    {change.to === null
                      ? `default (${formatSettingValue(change.default)})`
                      : formatSettingValue(change.to)}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Paper>
    </Stack>
  );
}

// ---- Overrides -------------------------------------------------------------------------------

function Overrides({ profile, canManage }: { profile: Profile; canManage: boolean }) {
  const trpc = useTRPC();
  const clusters = useQuery(trpc.clusters.list.queryOptions());
  const clusterIds = clusters.data?.items.map((cluster) => cluster.id) ?? [];
  const [clusterId, setClusterId] = useState<string | null>(profile.overrides[0]?.clusterId ?? null);
  const [editing, setEditing] = useState(false);
  const selected = clusterId ?? clusterIds[0] ?? null;
  const effective = useQuery({
    ...trpc.profiles.effective.queryOptions({ id: profile.id, clusterId: selected ?? undefined }),
    enabled: selected !== null,
  });
  const override = profile.overrides.find((candidate) => candidate.clusterId === selected);
  if (clusters.isPending) return <LoadingBlock label="Loading clusters…" />;
  if (clusters.isError) return <QueryError title="Could not load clusters" error={clusters.error} />;
  if (clusterIds.length === 0) {
    return (
      <Alert variant="light" title="No clusters yet">
        Register a cluster on the Clusters page to override settings for it.
      </Alert>
    );
  }
  return (
    <Stack gap="lg">
      <Group align="flex-end" justify="space-between">
        <Select
          label="Cluster"
          data={clusterIds.map((id) => ({
            value: id,
            label: profile.overrides.some((o) => o.clusterId === id) ? `${id} (overridden)` : id,
          }))}
          value={selected}
          onChange={setClusterId}
          allowDeselect={false}
          w={320}
        />
        {canManage && selected ? (
          <Group>
            <Button variant="light" onClick={() => setEditing(true)}>
              {override ? "Change override" : "Override settings"}
            </Button>
            {override ? <RemoveOverrideButton profileId={profile.id} clusterId={selected} /> : null}
          </Group>
        ) : null}
      </Group>
      {override ? (
        <Text size="sm" c="dimmed">
          Override set <DateTime iso={override.createdAt} /> by {override.author.name}.
        </Text>
      ) : null}
      <Paper withBorder radius="md">
        {effective.isPending ? (
          <LoadingBlock label="Merging…" />
        ) : effective.isError ? (
          <QueryError title="Could not merge the settings" error={effective.error} />
        ) : (
          <Table aria-label="Effective settings" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Setting</Table.Th>
                <Table.Th>Value on {selected}</Table.Th>
                <Table.Th>Source</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {effective.data.settings.map((item) => (
                <Table.Tr key={item.setting}>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {labelOf(item.setting)}
                    </Text>
                    <Text size="xs" c="dimmed" ff="monospace">
                      {item.variable}
                    </Text>
                  </Table.Td>
                  <Table.Td
                    ff="monospace"
                    c={item.source.kind === "default" || item.source.kind === "unset" ? "dimmed" : undefined}
                  >
                    {formatSettingValue(item.value)}
                    {item.source.kind === "override" ? (
                      <Text size="xs" c="dimmed" ff="monospace" td="line-through">
                        {formatSettingValue(item.overridden)}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    <Badge
                      variant={item.source.kind === "override" ? "filled" : "light"}
                      color={
                        item.source.kind === "override"
                          ? "orange"
                          : item.source.kind === "profile"
                            ? "blue"
                            : "gray"
                      }
                      tt="none"
                    >
                      {item.source.label}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Paper>
      {canManage && selected ? (
        <OverrideModal
          key={`${selected}/${override?.createdAt ?? ""}`}
          opened={editing}
          onClose={() => setEditing(false)}
          profileId={profile.id}
          clusterId={selected}
          current={override?.settings ?? {}}
        />
      ) : null}
    </Stack>
  );
}

function RemoveOverrideButton({ profileId, clusterId }: { profileId: string; clusterId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.profiles.removeOverride.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.profiles.pathKey() }),
    }),
  );
  return (
    <Button
      variant="subtle"
      color="red"
      loading={remove.isPending}
      onClick={() => remove.mutate({ id: profileId, clusterId })}
    >
      Remove override
    </Button>
  );
}

function OverrideModal({
  opened,
  onClose,
  profileId,
  clusterId,
  current,
}: {
  opened: boolean;
  onClose: () => void;
  profileId: string;
  clusterId: string;
  current: Record<string, unknown>;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [values, setValues] = useState(() => formValuesFromSettings(current));
  const [errors, setErrors] = useState<FieldErrors>({});
  const set = useMutation(
    trpc.profiles.setOverride.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.profiles.pathKey() });
        onClose();
      },
    }),
  );
  const change = (key: string, value: string) => {
    const next = { ...values, [key]: value };
    setValues(next);
    const result = readSettingsForm(next, "override");
    setErrors(result.ok ? {} : result.errors);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const read = readSettingsForm(values, "override");
    if (!read.ok) {
      setErrors(read.errors);
      return;
    }
    set.mutate({ id: profileId, clusterId, settings: read.settings });
  };
  return (
    <Modal opened={opened} onClose={onClose} title={`Override settings for ${clusterId}`} size="xl">
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <Text size="sm" c="dimmed">
            Fill in only what differs on {clusterId}; empty fields keep the profile&apos;s value.
          </Text>
          <SettingsFields values={values} errors={errors} onChange={change} mode="override" />
          <FormError error={set.error} />
          <Group justify="flex-end">
            {describeFieldErrors(errors) ? (
              <Text size="sm" c="red" mr="auto">
                {describeFieldErrors(errors)}
              </Text>
            ) : null}
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={set.isPending} disabled={Object.keys(errors).length > 0}>
              Save override
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
