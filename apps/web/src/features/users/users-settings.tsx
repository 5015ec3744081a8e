"use client";

import { Alert, Badge, Box, Button, Group, Paper, Select, Stack, Table, Text, Tooltip } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { IconPlus } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { AdminOnly } from "@/components/admin-only";
import { ConfirmModal } from "@/components/confirm-modal";
import { useCurrentUser } from "@/components/current-user";
import { WhyDisabled } from "@/components/why-disabled";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { errorMessage } from "@/lib/api-errors";
import { formatDateTime } from "@/lib/format";
import { roleLabels, roles, type Role } from "@/lib/roles";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { CreateUserModal } from "./create-user-modal";
import { ResetPasswordModal } from "./reset-password-modal";

type UserItem = RouterOutputs["users"]["list"]["items"][number];

const roleOptions = roles.map((role) => ({ value: role, label: roleLabels[role] }));

const roleConsequences: Record<Role, string> = {
  viewer: "they can read everything but change nothing.",
  operator: "they can change configuration, run rollouts and request captures, but not manage users.",
  admin: "they can do everything, including managing users, tokens and the audit log.",
};

export function UsersSettings() {
  const [createOpened, createModal] = useDisclosure(false);
  return (
    <>
      <PageHeader
        title="Users"
        description="People who sign in to this dashboard, and what they may do."
        actions={
          <AdminOnlyAction>
            <Button leftSection={<IconPlus size={16} />} onClick={createModal.open}>
              New user
            </Button>
          </AdminOnlyAction>
        }
      />
      <AdminOnly what="manage users">
        <UsersTable />
        <CreateUserModal opened={createOpened} onClose={createModal.close} />
      </AdminOnly>
    </>
  );
}

function AdminOnlyAction({ children }: { children: ReactNode }) {
  return useCurrentUser().role === "admin" ? children : null;
}

function UsersTable() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const currentUser = useCurrentUser();
  const users = useQuery(trpc.users.list.queryOptions());
  const [resetTarget, setResetTarget] = useState<UserItem | null>(null);
  const [deleteTarget, setDeleteTarget] = useState<UserItem | null>(null);
  const [roleChange, setRoleChange] = useState<{ user: UserItem; role: Role } | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
  const update = useMutation(
    trpc.users.update.mutationOptions({
      onMutate: () => setActionError(null),
      onSuccess: async (user, input) => {
        await refresh();
        if (input.role) {
          setRoleChange(null);
          notifications.show({
            color: "green",
            title: "Role changed",
            message: `${user.username} is now ${roleLabels[user.role]}.`,
          });
        } else if (input.disabled !== undefined) {
          notifications.show({
            color: "green",
            title: user.disabled ? "User disabled" : "User enabled",
            message: user.disabled
              ? `${user.username} is signed out and can no longer sign in.`
              : `${user.username} can sign in again.`,
          });
        }
      },
      onError: (error, input) => {
        // A refused role change is shown in its confirmation dialog.
        if (input.role) return;
        const target = users.data?.items.find((user) => user.id === input.id)?.username ?? "the user";
        setActionError(`Could not update ${target}: ${errorMessage(error)}`);
      },
    }),
  );
  const remove = useMutation(
    trpc.users.delete.mutationOptions({
      onSuccess: async () => {
        await refresh();
        if (deleteTarget)
          notifications.show({
            color: "green",
            title: "User deleted",
            message: `${deleteTarget.username} was deleted.`,
          });
        setDeleteTarget(null);
      },
    }),
  );

  if (users.isPending) return <LoadingBlock label="Loading users…" />;
  if (users.isError)
    return (
      <QueryError title="Could not load users" error={users.error} onRetry={() => void users.refetch()} />
    );

  const pendingId = update.isPending ? update.variables.id : null;

  return (
    <Stack gap="md">
      {actionError ? (
        <Alert
          color="red"
          variant="light"
          role="alert"
          withCloseButton
          closeButtonLabel="Dismiss"
          onClose={() => setActionError(null)}
        >
          {actionError}
        </Alert>
      ) : null}
      <Paper withBorder radius="md">
        <Table.ScrollContainer minWidth={760}>
          <Table aria-label="Users">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>User</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {users.data.items.map((user) => {
                const isSelf = user.id === currentUser.id;
                const busy = pendingId === user.id;
                return (
                  <Table.Tr key={user.id}>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {user.username}
                        {isSelf ? (
                          <Text span size="sm" c="dimmed">
                            {" "}
                            (you)
                          </Text>
                        ) : null}
                      </Text>
                      {user.displayName ? (
                        <Text size="xs" c="dimmed">
                          {user.displayName}
                        </Text>
                      ) : null}
                    </Table.Td>
                    <Table.Td>
                      {/* Changing your own role could lock every admin out; another admin must do it. */}
                      <Tooltip label="You cannot change your own role; another admin can" disabled={!isSelf}>
                        {/* A disabled input gets no pointer events: the wrapper carries the tooltip. */}
                        <Box w={130}>
                          <Select
                            aria-label={`Role of ${user.username}`}
                            data={roleOptions}
                            value={user.role}
                            allowDeselect={false}
                            disabled={isSelf || busy}
                            size="xs"
                            onChange={(value) => {
                              if (value && value !== user.role) setRoleChange({ user, role: value });
                            }}
                          />
                        </Box>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>
                      <Badge color={user.disabled ? "gray" : "green"}>
                        {user.disabled ? "Disabled" : "Active"}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" title={user.createdAt}>
                        {formatDateTime(user.createdAt)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap">
                        <WhyDisabled reason={isSelf ? "You cannot disable your own account" : null}>
                          <Button
                            size="xs"
                            variant="default"
                            disabled={isSelf}
                            loading={busy && update.variables?.disabled !== undefined}
                            onClick={() => update.mutate({ id: user.id, disabled: !user.disabled })}
                          >
                            {user.disabled ? "Enable" : "Disable"}
                          </Button>
                        </WhyDisabled>
                        <WhyDisabled
                          reason={
                            isSelf
                              ? "Change your own password on your account page, with your current one"
                              : null
                          }
                        >
                          <Button
                            size="xs"
                            variant="default"
                            disabled={isSelf}
                            onClick={() => setResetTarget(user)}
                          >
                            Reset password
                          </Button>
                        </WhyDisabled>
                        <WhyDisabled reason={isSelf ? "You cannot delete your own account" : null}>
                          <Button
                            size="xs"
                            variant="light"
                            color="red"
                            disabled={isSelf}
                            onClick={() => setDeleteTarget(user)}
                          >
                            Delete
                          </Button>
                        </WhyDisabled>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Paper>

      <ResetPasswordModal user={resetTarget} onClose={() => setResetTarget(null)} />
      <ConfirmModal
        opened={roleChange !== null}
        title={`Change the role of ${roleChange?.user.username ?? ""}?`}
        confirmLabel={`Make ${roleChange ? roleLabels[roleChange.role] : ""}`}
        color="blue"
        pending={update.isPending}
        error={roleChange ? update.error : null}
        onConfirm={() => roleChange && update.mutate({ id: roleChange.user.id, role: roleChange.role })}
        onClose={() => {
          setRoleChange(null);
          update.reset();
        }}
      >
        {roleChange
          ? `${roleChange.user.username} goes from ${roleLabels[roleChange.user.role]} to ${roleLabels[roleChange.role]}: ${roleConsequences[roleChange.role]} It takes effect on their next request.`
          : null}
      </ConfirmModal>
      <ConfirmModal
        opened={deleteTarget !== null}
        title={`Delete user ${deleteTarget?.username ?? ""}?`}
        confirmLabel="Delete user"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => deleteTarget && remove.mutate({ id: deleteTarget.id })}
        onClose={() => {
          setDeleteTarget(null);
          remove.reset();
        }}
      >
        {deleteTarget?.username} is signed out and can no longer sign in. Their API tokens are deleted too, so
        pipelines using them stop working. Their entries in the audit log stay. To block access but keep the
        account and its tokens, disable it instead.
      </ConfirmModal>
    </Stack>
  );
}
