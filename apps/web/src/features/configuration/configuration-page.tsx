"use client";

import {
  Badge,
  Button,
  EmptyState,
  Group,
  Modal,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { IconAdjustmentsHorizontal, IconPlus } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useCurrentUser } from "@/components/current-user";
import { DateTime } from "@/components/date-time";
import { PageHeader } from "@/components/page-header";
import { FormError, LoadingBlock, QueryError } from "@/components/status-blocks";
import { fieldErrors } from "@/lib/api-errors";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC } from "@/lib/trpc";
import { useDefaultCollector } from "../clusters/use-default-collector";
import { SettingsFields } from "./settings-fields";
import {
  describeFieldErrors,
  formValuesFromSettings,
  readSettingsForm,
  type FieldErrors,
  type FormValues,
} from "./settings-form-state";

export function ConfigurationPage() {
  const user = useCurrentUser();
  const canManage = roleAtLeast(user.role, "admin");
  const [createOpened, createModal] = useDisclosure(false);
  const trpc = useTRPC();
  const profiles = useQuery(trpc.profiles.list.queryOptions());
  return (
    <>
      <PageHeader
        title="Configuration"
        description="Sensor configuration profiles. Every save is a revision with its author and message; clusters can override single settings."
        actions={
          canManage ? (
            <Button leftSection={<IconPlus size={16} />} onClick={createModal.open}>
              Create profile
            </Button>
          ) : null
        }
      />
      {profiles.isPending ? (
        <LoadingBlock label="Loading profiles…" />
      ) : profiles.isError ? (
        <QueryError
          title="Could not load profiles"
          error={profiles.error}
          onRetry={() => void profiles.refetch()}
        />
      ) : profiles.data.items.length === 0 ? (
        <Paper withBorder p="xl" radius="lg">
          <EmptyState
            icon={<IconAdjustmentsHorizontal />}
            variant="light"
            title="No configuration profiles yet"
            description="A profile holds the settings your sensors run with: the collector, which interfaces to capture, the BPF filter, debug level. Its history is kept revision by revision."
          >
            <Text size="sm" c="dimmed" ta="center" maw={560}>
              {canManage
                ? "Create a profile here, or adopt a sensor DaemonSet already running in a cluster from its cluster page: its settings become a profile."
                : "Ask an admin to create the first profile."}
            </Text>
            {canManage ? (
              <EmptyState.Actions>
                <Button variant="light" onClick={createModal.open}>
                  Create a profile
                </Button>
              </EmptyState.Actions>
            ) : null}
          </EmptyState>
        </Paper>
      ) : (
        <Paper withBorder radius="md">
          <Table.ScrollContainer minWidth={900}>
            <Table aria-label="Profiles" verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Profile</Table.Th>
                  <Table.Th>Revision</Table.Th>
                  <Table.Th>Last saved</Table.Th>
                  <Table.Th>Cluster overrides</Table.Th>
                  <Table.Th>Created</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {profiles.data.items.map((profile) => (
                  <Table.Tr key={profile.id}>
                    <Table.Td>
                      <Stack gap={2}>
                        <Text component={Link} href={`/configuration/${profile.id}`} fw={600} c="blue">
                          {profile.name}
                        </Text>
                        {profile.description ? (
                          <Text size="xs" c="dimmed">
                            {profile.description}
                          </Text>
                        ) : null}
                      </Stack>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light">r{profile.latestRevision}</Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        <DateTime iso={profile.updatedAt} /> by {profile.updatedBy.name}
                      </Text>
                    </Table.Td>
                    <Table.Td>{profile.overrideCount === 0 ? "None" : profile.overrideCount}</Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        <DateTime iso={profile.createdAt} /> by {profile.createdBy.name}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}
      {canManage ? <CreateProfileModal opened={createOpened} onClose={createModal.close} /> : null}
    </>
  );
}

function CreateProfileModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  // A new profile reports to the server's public address (TAPFLEET_PUBLIC_URL) when it has one.
  const collector = useDefaultCollector();
  const [edited, setValues] = useState<FormValues | null>(null);
  const values =
    edited ??
    formValuesFromSettings(
      collector.configured ? { collectorHost: collector.host, collectorPort: Number(collector.port) } : {},
    );
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation(
    trpc.profiles.create.mutationOptions({
      onSuccess: async (profile) => {
        await queryClient.invalidateQueries({ queryKey: trpc.profiles.list.queryKey() });
        onClose();
        router.push(`/configuration/${profile.id}`);
      },
    }),
  );
  const serverErrors = fieldErrors(create.error);
  const change = (key: string, value: string) => {
    const next = { ...values, [key]: value };
    setValues(next);
    const read = readSettingsForm(next);
    setErrors(read.ok ? {} : read.errors);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const read = readSettingsForm(values);
    if (!read.ok) {
      setErrors(read.errors);
      return;
    }
    create.mutate({
      name,
      description: description || undefined,
      settings: read.settings as never,
      message: "Created",
    });
  };
  return (
    <Modal opened={opened} onClose={onClose} title="Create a profile" size="xl">
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <Group grow align="flex-start">
            <TextInput
              label="Name"
              description="Lowercase letters, digits and -, like a Kubernetes name."
              required
              value={name}
              onChange={(event) => setName(event.currentTarget.value)}
              error={serverErrors.name}
              data-autofocus
            />
            <Textarea
              label="Description"
              autosize
              minRows={1}
              value={description}
              onChange={(event) => setDescription(event.currentTarget.value)}
            />
          </Group>
          <SettingsFields values={values} errors={errors} onChange={change} />
          <FormError error={create.error} />
          <Group justify="flex-end">
            {describeFieldErrors(errors) ? (
              <Text size="sm" c="red" mr="auto">
                {describeFieldErrors(errors)}
              </Text>
            ) : null}
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={Object.keys(errors).length > 0}>
              Create profile
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
