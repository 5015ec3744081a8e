"use client";

import { Button, Code, CopyButton, Group, Stack, Text, TextInput } from "@mantine/core";
import { IconCheck, IconCopy } from "@tabler/icons-react";
import { useState } from "react";
import { ENROLLMENT_NAMESPACE, ENROLLMENT_SECRET_NAME, envSnippet, secretCommand } from "./agent-enrollment";
import { useDefaultCollector } from "./use-default-collector";

function CopyBlock(props: { title: string; text: string; copyLabel: string }) {
  return (
    <Stack gap={4}>
      <Group justify="space-between" align="flex-end" wrap="nowrap">
        <Text size="sm" fw={500} style={{ flex: 1 }}>
          {props.title}
        </Text>
        <CopyButton value={props.text}>
          {({ copied, copy }) => (
            <Button
              size="xs"
              variant={copied ? "light" : "default"}
              color={copied ? "green" : undefined}
              leftSection={copied ? <IconCheck size={14} /> : <IconCopy size={14} />}
              onClick={copy}
            >
              {copied ? "Copied" : props.copyLabel}
            </Button>
          )}
        </CopyButton>
      </Group>
      {/* Shown exactly as copied: a long line scrolls rather than breaking inside a word. */}
      <Code block style={{ whiteSpace: "pre", overflowX: "auto" }}>
        {props.text}
      </Code>
    </Stack>
  );
}

/**
 * How to give a cluster's agents its ingest key: a `kubectl create secret` command (with the key,
 * shown this once) and the capture container's env, every variable named.
 */
export function AgentEnrollmentPanel({ clusterId, secret }: { clusterId: string; secret: string }) {
  const suggested = useDefaultCollector();
  const [edited, setCollector] = useState<{ host: string; port: string } | null>(null);
  const collector = edited ?? { host: suggested.host, port: suggested.port };
  return (
    <Stack gap="sm">
      <Text size="sm">
        Agents report to this server. The address must be reachable over HTTPS from the cluster&apos;s nodes
        {suggested.configured
          ? " (the server's public address, TAPFLEET_PUBLIC_URL)."
          : " (guessed from this page's address; set TAPFLEET_PUBLIC_URL on the server, or change it here if they reach the server by another name)."}
      </Text>
      <Group grow align="flex-start">
        <TextInput
          label="VSENSOR_HOSTNAME"
          description="Host name or IP address"
          ff="monospace"
          value={collector.host}
          onChange={(event) => setCollector({ ...collector, host: event.currentTarget.value.trim() })}
        />
        <TextInput
          label="VSENSOR_PORT"
          description="HTTPS port"
          ff="monospace"
          value={collector.port}
          onChange={(event) => setCollector({ ...collector, port: event.currentTarget.value.trim() })}
        />
      </Group>
      <CopyBlock
        title={`1. The Secret ${ENROLLMENT_SECRET_NAME} in namespace ${ENROLLMENT_NAMESPACE}`}
        text={secretCommand({ secret })}
        copyLabel="Copy command"
      />
      <CopyBlock
        title="2. The agent's environment"
        text={envSnippet({ clusterId, host: collector.host, port: collector.port })}
        copyLabel="Copy env"
      />
      <Text size="xs" c="dimmed">
        TAPFLEET_CLUSTER_ID names the cluster; VSENSOR_HMAC_KEY comes from the Secret; set VSENSOR_TLS_CA_FILE
        to the CA&apos;s PEM file when this server&apos;s certificate is signed by a private CA. Installing
        the sensor from this cluster&apos;s page sets all of them.
      </Text>
    </Stack>
  );
}
