"use client";

import {
  Badge,
  Button,
  Code,
  EmptyState,
  Group,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { IconChevronLeft, IconChevronRight, IconFilterOff, IconHistory } from "@tabler/icons-react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { AdminOnly } from "@/components/admin-only";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { formatLogTime } from "@/lib/format";
import { useTRPC, type RouterInputs, type RouterOutputs } from "@/lib/trpc";

type AuditEvent = RouterOutputs["audit"]["list"]["items"][number];
type Outcome = NonNullable<RouterInputs["audit"]["list"]["outcome"]>;

const pageSize = 50;

const outcomeOptions = [
  { value: "any", label: "Any outcome" },
  { value: "success", label: "Success" },
  { value: "failure", label: "Failure" },
];

const actorTypeLabels: Record<AuditEvent["actorType"], string> = {
  user: "User",
  token: "Token",
  system: "System",
  anonymous: "Anonymous",
};

export function AuditSettings() {
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Who did what, from where, and whether it worked: sign-ins, user and token changes, and every other change, newest first."
      />
      <AdminOnly what="read the audit log">
        <AuditLog />
      </AdminOnly>
    </>
  );
}

function AuditLog() {
  const trpc = useTRPC();
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  const [outcome, setOutcome] = useState<"any" | Outcome>("any");
  // Cursors of the pages already visited, so "Newer" can go back; the first page has none.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  // Typing in a filter should not send a request per keystroke.
  const [filters] = useDebouncedValue({ action: action.trim(), actor: actor.trim(), outcome }, 300);

  const pageIndex = cursors.length - 1;
  const events = useQuery(
    trpc.audit.list.queryOptions(
      {
        limit: pageSize,
        cursor: cursors[pageIndex],
        action: filters.action || undefined,
        actor: filters.actor || undefined,
        outcome: filters.outcome === "any" ? undefined : filters.outcome,
      },
      // Keep the current rows on screen while the next page loads, instead of flashing a spinner.
      { placeholderData: keepPreviousData },
    ),
  );

  // Mutations record the id they acted on; show the user or token name when it still exists.
  const users = useQuery(trpc.users.list.queryOptions());
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const targetNames = new Map<string, string>([
    ...(users.data?.items ?? []).map((user): [string, string] => [user.id, user.username]),
    ...(tokens.data?.items ?? []).map((token): [string, string] => [token.id, `token “${token.name}”`]),
  ]);

  const resetPaging = () => setCursors([undefined]);
  const filtered = action !== "" || actor !== "" || outcome !== "any";

  return (
    <Stack gap="md">
      <Group gap="sm" align="flex-end" wrap="wrap" role="search" aria-label="Filter audit events">
        <TextInput
          label="Action"
          placeholder="e.g. auth.login"
          value={action}
          onChange={(event) => {
            setAction(event.currentTarget.value);
            resetPaging();
          }}
          w={220}
        />
        <TextInput
          label="Actor"
          placeholder="User or token name"
          value={actor}
          onChange={(event) => {
            setActor(event.currentTarget.value);
            resetPaging();
          }}
          w={220}
        />
        <Select
          label="Outcome"
          data={outcomeOptions}
          value={outcome}
          allowDeselect={false}
          onChange={(value) => {
            if (value) setOutcome(value as "any" | Outcome);
            resetPaging();
          }}
          w={170}
        />
        {filtered ? (
          <Button
            variant="subtle"
            leftSection={<IconFilterOff size={16} />}
            onClick={() => {
              setAction("");
              setActor("");
              setOutcome("any");
              resetPaging();
            }}
          >
            Clear filters
          </Button>
        ) : null}
      </Group>

      {events.isPending ? (
        <LoadingBlock label="Loading audit events…" />
      ) : events.isError ? (
        <QueryError
          title="Could not load the audit log"
          error={events.error}
          onRetry={() => void events.refetch()}
        />
      ) : events.data.items.length === 0 ? (
        <Paper withBorder p="xl" radius="lg">
          <EmptyState
            icon={<IconHistory />}
            variant="light"
            title={filtered ? "No events match these filters" : "No audit events yet"}
            description={
              filtered
                ? "Loosen or clear the filters to see more events."
                : "Sign-ins and every change to users, tokens, clusters and configuration are recorded here."
            }
          />
        </Paper>
      ) : (
        <Paper withBorder radius="md">
          <Table.ScrollContainer minWidth={1000}>
            <Table aria-label="Audit events" aria-busy={events.isFetching}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={170}>Time</Table.Th>
                  <Table.Th>Actor</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Target</Table.Th>
                  <Table.Th>Address</Table.Th>
                  <Table.Th w={110}>Outcome</Table.Th>
                  <Table.Th>Error code</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {events.data.items.map((event) => (
                  <Table.Tr key={event.id}>
                    <Table.Td>
                      <Text size="sm" title={event.at}>
                        {formatLogTime(event.at)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{event.actorName ?? "—"}</Text>
                      <Text size="xs" c="dimmed">
                        {actorTypeLabels[event.actorType]}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Code>{event.action}</Code>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" title={event.target ?? undefined}>
                        {event.target ? (targetNames.get(event.target) ?? event.target) : "—"}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {event.ip ?? "—"}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge color={event.outcome === "success" ? "green" : "red"}>
                        {event.outcome === "success" ? "Success" : "Failure"}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      {event.errorCode ? <Code>{event.errorCode}</Code> : <Text size="sm">—</Text>}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}

      <Group justify="space-between" aria-label="Pages">
        <Text size="sm" c="dimmed" aria-live="polite">
          Page {pageIndex + 1}
        </Text>
        <Group gap="sm">
          <Button
            variant="default"
            leftSection={<IconChevronLeft size={16} />}
            disabled={pageIndex === 0}
            onClick={() => {
              setCursors((visited) => visited.slice(0, -1));
              window.scrollTo({ top: 0 });
            }}
          >
            Newer
          </Button>
          <Button
            variant="default"
            rightSection={<IconChevronRight size={16} />}
            disabled={!events.data?.nextCursor || events.isPlaceholderData}
            onClick={() => {
              const next = events.data?.nextCursor;
              if (next) setCursors((visited) => [...visited, next]);
              // The pager sits below 50 rows; start reading the new page from its top.
              window.scrollTo({ top: 0 });
            }}
          >
            Older
          </Button>
        </Group>
      </Group>
    </Stack>
  );
}
