"use client";

import { Alert, Button, CopyButton, Group, Stack, TextInput } from "@mantine/core";
import { IconAlertTriangle, IconCheck, IconCopy } from "@tabler/icons-react";
import type { ReactNode } from "react";

/** A secret the server returns exactly once: a warning, the value in a read-only field, a copy button. */
export function OneTimeSecret(props: {
  label: string;
  value: string;
  warning: ReactNode;
  copyLabel: string;
  extra?: ReactNode;
  onDone: () => void;
}) {
  return (
    <Stack gap="md">
      <Alert color="yellow" variant="light" icon={<IconAlertTriangle />} title="Shown only once">
        {props.warning}
      </Alert>
      {props.extra}
      <TextInput
        label={props.label}
        value={props.value}
        readOnly
        ff="monospace"
        onFocus={(event) => event.currentTarget.select()}
      />
      <Group justify="space-between">
        <CopyButton value={props.value}>
          {({ copied, copy }) => (
            <Button
              variant={copied ? "light" : "filled"}
              color={copied ? "green" : undefined}
              leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
              onClick={copy}
            >
              {copied ? "Copied" : props.copyLabel}
            </Button>
          )}
        </CopyButton>
        <Button variant="default" onClick={props.onDone}>
          Done
        </Button>
      </Group>
    </Stack>
  );
}
