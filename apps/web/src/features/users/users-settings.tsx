"use client";

import { Alert, Badge, Button, Group, Paper, Select, Stack, Table, Text, Tooltip } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { IconPlus } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { AdminOnly } from "@/components/admin-only";
import { ConfirmModal } from "@/components/confirm-modal";
import { useCurrentUser } from "@/components/current-user";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { errorMessage } from "@/lib/api-errors";
import { formatDateTime } from "@/lib/format";
import { roleLabels, roles } from "@/lib/roles";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { CreateUserModal } from "./create-user-modal";
import { ResetPasswordModal } from "./reset-password-modal";

type UserItem = RouterOutputs["users"]["list"]["items"][number];

const roleOptions = roles.map((role) => ({ value: role, label: roleLabels[role] }));

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
  const [actionError, setActionError] = useState<string | null>(null);

  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
  const update = useMutation(
    trpc.users.update.mutationOptions({
      onMutate: () => setActionError(null),
      onSuccess: refresh,
      onError: (error, input) => {
        const target = users.data?.items.find((user) => user.id === input.id)?.username ?? "the user";
        setActionError(`Could not update ${target}: ${errorMessage(error)}`);
      },
    }),
  );
  const remove = useMutation(
    trpc.users.delete.mutationOptions({
      onSuccess: async () => {
        await refresh();
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
                      <Tooltip label="Another admin must change your role" disabled={!isSelf}>
                        <Select
                          aria-label={`Role of ${user.username}`}
                          data={roleOptions}
                          value={user.role}
                          allowDeselect={false}
                          disabled={isSelf || busy}
                          size="xs"
                          w={130}
                          onChange={(value) => {
                            if (value && value !== user.role) update.mutate({ id: user.id, role: value });
                          }}
                        />
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
                        <Button
                          size="xs"
                          variant="default"
                          disabled={isSelf}
                          loading={busy && update.variables?.disabled !== undefined}
                          onClick={() => update.mutate({ id: user.id, disabled: !user.disabled })}
                        >
                          {user.disabled ? "Enable" : "Disable"}
                        </Button>
                        <Button size="xs" variant="default" onClick={() => setResetTarget(user)}>
                          Reset password
                        </Button>
                        <Button
                          size="xs"
                          variant="light"
                          color="red"
                          disabled={isSelf}
                          onClick={() => setDeleteTarget(user)}
                        >
                          Delete
                        </Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Paper>

      <ResetPasswordModal
        user={resetTarget}
        isSelf={resetTarget?.id === currentUser.id}
        onClose={() => setResetTarget(null)}
      />
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
