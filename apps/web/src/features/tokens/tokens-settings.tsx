"use client";

import { Badge, Button, Code, EmptyState, Paper, Table, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { IconKey, IconPlus } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ConfirmModal } from "@/components/confirm-modal";
import { useCurrentUser } from "@/components/current-user";
import { DateTime } from "@/components/date-time";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { roleColors, roleLabels } from "@/lib/roles";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";
import { CreateTokenModal } from "./create-token-modal";

type TokenItem = RouterOutputs["tokens"]["list"]["items"][number];
type TokenStatus = "active" | "expired" | "revoked";

function statusOf(token: TokenItem, now: number): TokenStatus {
  if (token.revokedAt) return "revoked";
  if (token.expiresAt && new Date(token.expiresAt).getTime() <= now) return "expired";
  return "active";
}

const statusBadges: Record<TokenStatus, { label: string; color: string }> = {
  active: { label: "Active", color: "green" },
  expired: { label: "Expired", color: "orange" },
  revoked: { label: "Revoked", color: "gray" },
};

export function TokensSettings() {
  const user = useCurrentUser();
  const [createOpened, createModal] = useDisclosure(false);
  return (
    <>
      <PageHeader
        title="API tokens"
        description={
          user.role === "admin"
            ? "Tokens let CI pipelines and the tapfleet CLI call the API with a given role. As an admin you see every user's tokens."
            : "Tokens let CI pipelines and the tapfleet CLI call the API with a given role, never more than your own."
        }
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={createModal.open}>
            New token
          </Button>
        }
      />
      <TokensTable onCreate={createModal.open} />
      <CreateTokenModal opened={createOpened} onClose={createModal.close} />
    </>
  );
}

function TokensTable({ onCreate }: { onCreate: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const [revokeTarget, setRevokeTarget] = useState<TokenItem | null>(null);
  const revoke = useMutation(
    trpc.tokens.revoke.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.tokens.list.queryKey() });
        setRevokeTarget(null);
      },
    }),
  );

  if (tokens.isPending) return <LoadingBlock label="Loading API tokens…" />;
  if (tokens.isError)
    return (
      <QueryError
        title="Could not load API tokens"
        error={tokens.error}
        onRetry={() => void tokens.refetch()}
      />
    );

  if (tokens.data.items.length === 0) {
    return (
      <Paper withBorder p="xl" radius="lg">
        <EmptyState
          icon={<IconKey />}
          variant="light"
          title="No API tokens yet"
          description="Create one token per pipeline or tool, so that each can be revoked on its own. Its secret is shown once, when you create it."
        >
          <EmptyState.Actions>
            <Button variant="light" onClick={onCreate}>
              Create your first token
            </Button>
          </EmptyState.Actions>
        </EmptyState>
      </Paper>
    );
  }

  const now = Date.now();
  const showOwner = user.role === "admin";
  return (
    <>
      <Paper withBorder radius="md">
        <Table.ScrollContainer minWidth={900}>
          <Table aria-label="API tokens">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Prefix</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th>Expires</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {tokens.data.items.map((token) => {
                const status = statusOf(token, now);
                return (
                  <Table.Tr key={token.id}>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {token.name}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge color={roleColors[token.role]}>{roleLabels[token.role]}</Badge>
                      {token.effectiveRole === token.role ? null : (
                        <Text size="xs" c="dimmed" mt={4}>
                          acts as {roleLabels[token.effectiveRole].toLowerCase()}: owner&apos;s role
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Code>{token.prefix}…</Code>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        <DateTime iso={token.createdAt} />
                      </Text>
                      {showOwner ? (
                        <Text size="xs" c="dimmed">
                          by {token.createdBy.username}
                        </Text>
                      ) : null}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{token.expiresAt ? <DateTime iso={token.expiresAt} /> : "Never"}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        {token.lastUsedAt ? <DateTime iso={token.lastUsedAt} relative /> : "Never used"}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge color={statusBadges[status].color}>{statusBadges[status].label}</Badge>
                    </Table.Td>
                    <Table.Td>
                      {status === "revoked" ? null : (
                        <Button size="xs" variant="light" color="red" onClick={() => setRevokeTarget(token)}>
                          Revoke
                        </Button>
                      )}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Paper>
      <ConfirmModal
        opened={revokeTarget !== null}
        title={`Revoke token ${revokeTarget?.name ?? ""}?`}
        confirmLabel="Revoke token"
        pending={revoke.isPending}
        error={revoke.error}
        onConfirm={() => revokeTarget && revoke.mutate({ id: revokeTarget.id })}
        onClose={() => {
          setRevokeTarget(null);
          revoke.reset();
        }}
      >
        Anything that uses this token, such as a pipeline or the tapfleet CLI, is refused from now on. This
        cannot be undone.
      </ConfirmModal>
    </>
  );
}
