"use client";

// "Adopt" on a sensor DaemonSet that Tapfleet found but does not manage: the
// import preview (settings, warnings, why not), the profile it goes into and
// the revision's message. Admins adopt; others see why they cannot.

import {
  Alert,
  Button,
  Code,
  Group,
  List,
  Modal,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
} from "@mantine/core";
import { IconAlertTriangle, IconBan, IconKey, IconLink } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useCurrentUser } from "@/components/current-user";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC } from "@/lib/trpc";
import { PROFILE_FIELDS, formatSettingValue, labelOf } from "../configuration/settings-form-state";

/** The "Adopt" button of a found sensor DaemonSet, or why there is none. */
export function AdoptDaemonSetAction(props: { clusterId: string; namespace: string; name: string }) {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const isAdmin = roleAtLeast(user.role, "admin");
  const [opened, setOpened] = useState(false);
  const status = useQuery(trpc.sensorInstall.status.queryOptions({ id: props.clusterId }));
  if (!status.data) return null;
  if (status.data.installed) {
    const managed = status.data.namespace === props.namespace && status.data.name === props.name;
    return (
      <Text size="xs" c="dimmed">
        {managed
          ? `${status.data.origin === "adopted" ? "Adopted" : "Installed"} by Tapfleet.`
          : `Not managed by Tapfleet, which manages ${status.data.namespace ?? ""}/${status.data.name ?? ""} here (one sensor per cluster).`}
      </Text>
    );
  }
  if (!isAdmin)
    return (
      <Text size="xs" c="dimmed">
        Not managed by Tapfleet. An admin can adopt it.
      </Text>
    );
  return (
    <>
      <Button
        size="xs"
        variant="light"
        leftSection={<IconLink size={14} />}
        onClick={() => setOpened(true)}
        aria-label={`Adopt ${props.namespace}/${props.name}`}
      >
        Adopt
      </Button>
      {opened ? <AdoptModal {...props} onClose={() => setOpened(false)} /> : null}
    </>
  );
}

function AdoptModal(props: { clusterId: string; namespace: string; name: string; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const preview = useQuery(
    trpc.sensorInstall.adoptPreview.queryOptions({
      id: props.clusterId,
      namespace: props.namespace,
      name: props.name,
    }),
  );
  const profiles = useQuery(trpc.profiles.list.queryOptions({}));
  const [target, setTarget] = useState<"new" | "existing">("new");
  const [profileName, setProfileName] = useState<string | null>(null);
  const [profileId, setProfileId] = useState<string | null>(null);
  const [message, setMessage] = useState("");
  const adopt = useMutation(
    trpc.sensorInstall.adopt.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.sensorInstall.status.queryKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.profiles.list.queryKey() });
        props.onClose();
      },
    }),
  );
  const fieldErrors = (
    adopt.error?.data as { zodError?: { fieldErrors?: Record<string, string[]> } } | undefined
  )?.zodError?.fieldErrors;
  const data = preview.data;
  const name = profileName ?? data?.suggestedProfileName ?? "";
  const rows = data?.settings
    ? PROFILE_FIELDS.filter((spec) => data.settings?.[spec.key] !== undefined).map((spec) => ({
        key: spec.key,
        variable: spec.variable,
        value: data.settings?.[spec.key],
      }))
    : [];

  return (
    <Modal opened onClose={props.onClose} title={`Adopt ${props.namespace}/${props.name}`} size="xl">
      {preview.isPending ? (
        <Text size="sm" c="dimmed">
          Reading the DaemonSet from the cluster…
        </Text>
      ) : preview.isError ? (
        <Alert color="red" title="Could not read the DaemonSet">
          {preview.error.message}
        </Alert>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            adopt.mutate({
              id: props.clusterId,
              namespace: props.namespace,
              name: props.name,
              ...(target === "new" ? { profileName: name } : profileId ? { profileId } : {}),
              ...(message.trim() ? { message: message.trim() } : {}),
            });
          }}
        >
          <Stack gap="sm">
            <Text size="sm">
              Container <Code>{preview.data.container ?? "—"}</Code> · image{" "}
              <Code>{preview.data.image ?? "—"}</Code> · capture{" "}
              {preview.data.captureMode === "privileged" ? "privileged" : "with capabilities"} · HMAC key:{" "}
              {preview.data.hmacKeySource}
            </Text>
            <Text size="sm" c="dimmed">
              Tapfleet takes over this DaemonSet only: the ServiceAccount, RBAC and Secrets it uses stay
              yours, and uninstalling later removes the DaemonSet alone. Adopting marks the DaemonSet&apos;s
              metadata and does not touch its pods: none restarts.
            </Text>
            <Alert color="blue" icon={<IconKey size={18} />} title="The HMAC key on the first rollout">
              <Text size="sm">{preview.data.hmacKeyOnRollout}</Text>
            </Alert>
            {preview.data.problems.length > 0 ? (
              <Alert color="red" icon={<IconBan size={18} />} title="Cannot be adopted">
                <List size="sm">
                  {preview.data.problems.map((problem) => (
                    <List.Item key={problem}>{problem}</List.Item>
                  ))}
                </List>
              </Alert>
            ) : null}
            {preview.data.warnings.length > 0 ? (
              <Alert color="yellow" icon={<IconAlertTriangle size={18} />} title="Warnings">
                <List size="sm">
                  {preview.data.warnings.map((warning) => (
                    <List.Item key={warning}>{warning}</List.Item>
                  ))}
                </List>
                {preview.data.unknownVariables.length > 0 ? (
                  <Text size="sm" mt="xs">
                    {preview.data.unknownVariables.join(", ")} stay in the DaemonSet as they are; the profile
                    does not hold them.
                  </Text>
                ) : null}
              </Alert>
            ) : null}
            {rows.length > 0 ? (
              <Table withTableBorder striped aria-label="Imported settings">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Setting</Table.Th>
                    <Table.Th>Variable</Table.Th>
                    <Table.Th>Value</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rows.map((row) => (
                    <Table.Tr key={row.key}>
                      <Table.Td>{labelOf(row.key)}</Table.Td>
                      <Table.Td>
                        <Code>{row.variable}</Code>
                      </Table.Td>
                      <Table.Td ff="monospace">{formatSettingValue(row.value)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            ) : null}
            {preview.data.adoptable ? (
              <>
                <div>
                  <Text size="sm" fw={500} mb={4}>
                    Profile
                  </Text>
                  <SegmentedControl
                    value={target}
                    onChange={(value) => setTarget(value)}
                    data={[
                      { value: "new", label: "New profile" },
                      {
                        value: "existing",
                        label: "Next revision of a profile",
                        disabled: (profiles.data?.items.length ?? 0) === 0,
                      },
                    ]}
                  />
                </div>
                {target === "new" ? (
                  <TextInput
                    label="Profile name"
                    required
                    value={name}
                    onChange={(event) => setProfileName(event.currentTarget.value)}
                    error={fieldErrors?.profileName?.join(" ")}
                  />
                ) : (
                  <Select
                    label="Profile"
                    required
                    placeholder="Choose a profile"
                    value={profileId}
                    onChange={setProfileId}
                    data={(profiles.data?.items ?? []).map((profile) => ({
                      value: profile.id,
                      label: `${profile.name} (latest r${profile.latestRevision})`,
                    }))}
                    error={fieldErrors?.profileId?.join(" ")}
                  />
                )}
                <TextInput
                  label="Revision message"
                  placeholder={preview.data.defaultMessage}
                  value={message}
                  onChange={(event) => setMessage(event.currentTarget.value)}
                  error={fieldErrors?.message?.join(" ")}
                />
              </>
            ) : null}
            {adopt.error && !fieldErrors ? (
              <Alert color="red" title="Adoption refused">
                {adopt.error.message}
              </Alert>
            ) : null}
            <Group justify="flex-end">
              <Button variant="default" onClick={props.onClose}>
                Cancel
              </Button>
              <Button
                type="submit"
                loading={adopt.isPending}
                disabled={!preview.data.adoptable || (target === "existing" && !profileId)}
              >
                Adopt
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
