"use client";

import {
  Badge,
  Button,
  Code,
  EmptyState,
  Group,
  Modal,
  Paper,
  Select,
  SimpleGrid,
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
import { LiveBadge } from "@/components/live-badge";
import { PageHeader } from "@/components/page-header";
import { LoadingBlock, QueryError } from "@/components/status-blocks";
import { formatDateTime, formatLogTime } from "@/lib/format";
import { useTRPC, type RouterInputs, type RouterOutputs } from "@/lib/trpc";
import { useLiveQuery } from "@/lib/use-live-query";
import { applyLiveAuditEvent } from "./apply-live-audit-event";

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
  const [action, setAction] = useState<string | null>(null);
  const [selected, setSelected] = useState<AuditEvent | null>(null);
  const [actor, setActor] = useState("");
  const [outcome, setOutcome] = useState<"any" | Outcome>("any");
  // Cursors of the pages already visited, so "Newer" can go back; the first page has none.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  // Typing in a filter should not send a request per keystroke.
  const [filters] = useDebouncedValue({ action, actor: actor.trim(), outcome }, 300);
  // The actions recorded so far: the filter offers only what can match.
  const actions = useQuery(trpc.audit.actions.queryOptions());

  const pageIndex = cursors.length - 1;
  const view = {
    limit: pageSize,
    cursor: cursors[pageIndex],
    action: filters.action || undefined,
    actor: filters.actor || undefined,
    outcome: filters.outcome === "any" ? undefined : filters.outcome,
  };
  // Live: events recorded from now on join the first page as they happen (the stream replays
  // what it missed after a reconnect, from the last event it delivered).
  const { query: events, live } = useLiveQuery(
    // Keep the current rows on screen while the next page loads, instead of flashing a spinner.
    trpc.audit.list.queryOptions(view, { placeholderData: keepPreviousData }),
    { path: "audit.live", input: undefined },
    applyLiveAuditEvent(view),
  );

  const resetPaging = () => setCursors([undefined]);
  const filtered = action !== null || actor !== "" || outcome !== "any";

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap" gap="sm">
        <Group gap="sm" align="flex-end" wrap="wrap" role="search" aria-label="Filter audit events">
          <Select
            label="Action"
            placeholder={actions.isError ? "Could not load actions" : "Any action"}
            data={actions.data?.items ?? []}
            value={action}
            searchable
            clearable
            nothingFoundMessage="No such action recorded"
            onChange={(value) => {
              setAction(value);
              resetPaging();
            }}
            w={240}
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
                setAction(null);
                setActor("");
                setOutcome("any");
                resetPaging();
              }}
            >
              Clear filters
            </Button>
          ) : null}
        </Group>
        <LiveBadge
          live={live}
          connectedHint={
            pageIndex === 0
              ? "New events appear at the top as they are recorded."
              : "New events appear on the first page (Newer)."
          }
        />
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
                  <Table.Th w={200}>Time</Table.Th>
                  <Table.Th>Actor</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Target</Table.Th>
                  <Table.Th>Detail</Table.Th>
                  <Table.Th w={110}>Outcome</Table.Th>
                  <Table.Th>Address</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {events.data.items.map((event) => (
                  <Table.Tr
                    key={event.id}
                    onClick={() => setSelected(event)}
                    style={{ cursor: "pointer" }}
                    aria-label={`${event.action} by ${event.actorName}`}
                  >
                    <Table.Td>
                      <Text size="sm" title={event.at} style={{ whiteSpace: "nowrap" }}>
                        {formatLogTime(event.at)}
                      </Text>
                    </Table.Td>
                    {/* Names come from callers (a claimed sign-in name): long ones wrap, not widen the table. */}
                    <Table.Td maw={240}>
                      <Text size="sm" style={{ overflowWrap: "anywhere" }}>
                        {event.actorName}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {actorTypeLabels[event.actorType]}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Code>{event.action}</Code>
                    </Table.Td>
                    <Table.Td maw={240}>
                      <Text size="sm" title={event.target ?? undefined} style={{ overflowWrap: "anywhere" }}>
                        {targetLabel(event)}
                      </Text>
                    </Table.Td>
                    <Table.Td maw={380}>
                      <EventSummary event={event} />
                    </Table.Td>
                    <Table.Td>
                      <Badge color={event.outcome === "success" ? "green" : "red"}>
                        {event.outcome === "success" ? "Success" : "Failure"}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {event.ip ?? "—"}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>
      )}

      <EventDetail event={selected} onClose={() => setSelected(null)} />

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

function targetLabel(event: AuditEvent): string {
  return event.targetName ?? event.target ?? "—";
}

const formatValue = (value: AuditEvent["changes"][number]["from"]) =>
  value === null ? "none" : String(value);

/** `role: viewer → operator`, one line per changed field. */
function changeLines(event: AuditEvent): string[] {
  return event.changes.map(
    (change) => `${change.field}: ${formatValue(change.from)} → ${formatValue(change.to)}`,
  );
}

/** What the table shows of an event: what changed, or why it failed. */
function EventSummary({ event }: { event: AuditEvent }) {
  if (event.outcome === "failure") {
    return (
      <Text size="sm" c="red" lineClamp={2}>
        {event.message ?? event.errorCode ?? "Refused"}
      </Text>
    );
  }
  const lines = changeLines(event);
  if (lines.length === 0)
    return (
      <Text size="sm" c="dimmed">
        —
      </Text>
    );
  return (
    <Stack gap={0}>
      {lines.map((line) => (
        <Text key={line} size="sm" ff="monospace">
          {line}
        </Text>
      ))}
    </Stack>
  );
}

function EventDetail({ event, onClose }: { event: AuditEvent | null; onClose: () => void }) {
  const rows: [string, string][] = event
    ? [
        ["When", formatDateTime(event.at)],
        ["Actor", `${event.actorName} (${actorTypeLabels[event.actorType].toLowerCase()})`],
        ["Target", event.targetName ? `${event.targetName} (${event.target ?? ""})` : (event.target ?? "—")],
        ["Address", event.ip ?? "—"],
        ["Outcome", event.outcome === "success" ? "Success" : `Failure (${event.errorCode ?? "no code"})`],
      ]
    : [];
  return (
    <Modal opened={event !== null} onClose={onClose} title={event ? event.action : ""} size="lg">
      {event ? (
        <Stack gap="md">
          <SimpleGrid cols={2} spacing="xs" verticalSpacing={4}>
            {rows.map(([label, value]) => (
              <Stack key={label} gap={0}>
                <Text size="xs" c="dimmed">
                  {label}
                </Text>
                <Text size="sm">{value}</Text>
              </Stack>
            ))}
          </SimpleGrid>
          {event.message ? (
            <Stack gap={2}>
              <Text size="xs" c="dimmed">
                Message
              </Text>
              <Text size="sm" c="red">
                {event.message}
              </Text>
            </Stack>
          ) : null}
          {event.changes.length > 0 ? (
            <Stack gap={2}>
              <Text size="xs" c="dimmed">
                Changes
              </Text>
              <Code block>{changeLines(event).join("\n")}</Code>
            </Stack>
          ) : null}
          <Stack gap={2}>
            <Text size="xs" c="dimmed">
              Request (passwords, keys and tokens are redacted)
            </Text>
            <Code block>{event.detail === null ? "—" : JSON.stringify(event.detail, null, 2)}</Code>
          </Stack>
        </Stack>
      ) : null}
    </Modal>
  );
}
