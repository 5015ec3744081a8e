"use client";

import { Alert, Badge, Box, Button, Group, Select, Stack, Switch, Text } from "@mantine/core";
import { IconArrowDown, IconDownload } from "@tabler/icons-react";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { errorMessage } from "@/lib/api-errors";
import { useTRPC } from "@/lib/trpc";
import { appendLogLines, EMPTY_LOG_BUFFER, isScrolledToEnd, type LogBuffer } from "./log-buffer";

/** The tail sizes offered; the server accepts any whole number up to its maximum. */
const TAIL_CHOICES = ["100", "200", "1000", "5000"];

/**
 * A pod's log, followed live: the tail, then each new line as the container writes it, until it
 * exits. Scrolls with the log unless the reader has scrolled up; the previous run (after a
 * restart), the tail size and a download of what is shown.
 */
export function PodLogViewer({
  clusterId,
  namespace,
  pod,
  containers,
}: {
  clusterId: string;
  namespace: string;
  pod: string;
  containers: string[];
}) {
  const trpc = useTRPC();
  const [tail, setTail] = useState("200");
  const [previous, setPrevious] = useState(false);
  const [container, setContainer] = useState<string | null>(containers[0] ?? null);
  const input = {
    clusterId,
    namespace,
    pod,
    tail: Number(tail),
    previous,
    ...(container && containers.length > 1 ? { container } : {}),
  };
  const key = JSON.stringify(input);
  // The lines belong to one stream (its input); a new input starts from nothing.
  const [log, setLog] = useState<{ key: string; buffer: LogBuffer; ended: boolean }>({
    key,
    buffer: EMPTY_LOG_BUFFER,
    ended: false,
  });
  const current = log.key === key ? log : { key, buffer: EMPTY_LOG_BUFFER, ended: false };
  const stream = useSubscription(
    trpc.kube.podLog.subscriptionOptions(input, {
      onData: (message) =>
        setLog((before) => {
          const base = before.key === key ? before : { key, buffer: EMPTY_LOG_BUFFER, ended: false };
          return message.type === "end"
            ? { ...base, ended: true }
            : { ...base, buffer: appendLogLines(base.buffer, [message.line]) };
        }),
    }),
  );

  const box = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);
  useLayoutEffect(() => {
    if (following && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [current.buffer, following]);
  useEffect(() => setFollowing(true), [key]);

  const download = () => {
    const blob = new Blob([current.buffer.lines.map((line) => `${line}\n`).join("")], { type: "text/plain" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = `${pod}${previous ? "-previous" : ""}.log`;
    link.click();
    URL.revokeObjectURL(url);
  };

  const state = stream.status === "error" ? "error" : current.ended ? "ended" : stream.status;
  return (
    <Stack gap="xs">
      <Group justify="space-between" wrap="wrap" gap="sm">
        <Group gap="sm" wrap="wrap">
          {containers.length > 1 ? (
            <Select
              aria-label="Container"
              size="xs"
              w={160}
              data={containers}
              value={container}
              onChange={setContainer}
              allowDeselect={false}
            />
          ) : null}
          <Select
            label="Tail"
            size="xs"
            w={140}
            data={TAIL_CHOICES.map((value) => ({ value, label: `${value} lines` }))}
            value={tail}
            onChange={(value) => value && setTail(value)}
            allowDeselect={false}
            styles={{ root: { display: "flex", alignItems: "center", gap: 6 }, label: { marginBottom: 0 } }}
          />
          <Switch
            size="sm"
            label="Previous container"
            checked={previous}
            onChange={(event) => setPrevious(event.currentTarget.checked)}
          />
        </Group>
        <Group gap="sm">
          <LogState state={state} previous={previous} />
          <Button
            size="xs"
            variant="default"
            leftSection={<IconDownload size={14} />}
            onClick={download}
            disabled={current.buffer.lines.length === 0}
          >
            Download
          </Button>
        </Group>
      </Group>
      {stream.status === "error" ? (
        <Alert color="red" variant="light" title="Could not read the log" role="alert">
          <Stack gap="xs">
            <Text size="sm">{errorMessage(stream.error)}</Text>
            <Group>
              <Button size="xs" variant="default" onClick={() => stream.reset()}>
                Try again
              </Button>
            </Group>
          </Stack>
        </Alert>
      ) : null}
      <Box pos="relative">
        <Box
          ref={box}
          role="log"
          aria-label={`Log of pod ${pod}`}
          tabIndex={0}
          onScroll={(event) => setFollowing(isScrolledToEnd(event.currentTarget))}
          style={{
            height: 360,
            overflow: "auto",
            background: "var(--mantine-color-dark-8)",
            color: "var(--mantine-color-gray-2)",
            borderRadius: "var(--mantine-radius-md)",
            padding: "10px 12px",
            fontFamily: "var(--mantine-font-family-monospace)",
            fontSize: 12.5,
            lineHeight: 1.55,
            whiteSpace: "pre-wrap",
            wordBreak: "break-all",
          }}
        >
          {current.buffer.dropped > 0 ? (
            <div style={{ color: "var(--mantine-color-gray-5)" }}>
              … {current.buffer.dropped} older lines not kept here
            </div>
          ) : null}
          {current.buffer.lines.map((line, index) => (
            <div key={current.buffer.dropped + index}>{line === "" ? "\u00a0" : line}</div>
          ))}
          {current.buffer.lines.length === 0 && state !== "error" ? (
            <div style={{ color: "var(--mantine-color-gray-5)" }}>
              {state === "ended" ? "The log is empty." : "Waiting for the log…"}
            </div>
          ) : null}
        </Box>
        {!following ? (
          <Button
            size="xs"
            radius="xl"
            leftSection={<IconArrowDown size={14} />}
            onClick={() => setFollowing(true)}
            style={{ position: "absolute", right: 16, bottom: 12 }}
          >
            Follow again
          </Button>
        ) : null}
      </Box>
    </Stack>
  );
}

function LogState({ state, previous }: { state: string; previous: boolean }) {
  if (state === "ended")
    return (
      <Badge color="gray" variant="light">
        {previous ? "Previous run" : "Container exited — log ended"}
      </Badge>
    );
  if (state === "pending")
    return (
      <Badge color="green" variant="light">
        Following live
      </Badge>
    );
  if (state === "error")
    return (
      <Badge color="red" variant="light">
        Not available
      </Badge>
    );
  return (
    <Badge color="blue" variant="light">
      Connecting…
    </Badge>
  );
}
