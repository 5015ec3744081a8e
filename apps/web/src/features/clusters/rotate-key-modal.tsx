"use client";

import { Alert, Button, Fieldset, Group, Modal, NumberInput, Stack, Text } from "@mantine/core";
import { IconAlertCircle } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { OneTimeSecret } from "@/components/one-time-secret";
import { FormError } from "@/components/status-blocks";
import { formatDateTime } from "@/lib/format";
import { useTRPC } from "@/lib/trpc";
import { AgentEnrollmentPanel } from "./agent-enrollment-panel";
import { keySecretNotUpdated, rotatedKeyWarning, type KeySecretOutcome } from "./rotate-key-wording";

/**
 * Issues a new ingest key. Old keys keep working for a grace period so sensors can be given the
 * new Secret and restarted without losing reports. Where Tapfleet manages the sensor, the answer
 * says whether its Secret got the key, or why not.
 */
export function RotateKeyModal({ clusterId, onClose }: { clusterId: string | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [graceHours, setGraceHours] = useState<number | string>(24);
  const [rotated, setRotated] = useState<{
    keyId: string;
    secret: string;
    oldKeysRetireAt: string;
    sensorKeySecret: KeySecretOutcome | null;
  } | null>(null);
  const notUpdated = rotated ? keySecretNotUpdated(rotated.sensorKeySecret) : null;
  const rotate = useMutation(
    trpc.clusters.rotateKey.mutationOptions({
      onSuccess: async (result) => {
        setRotated(result);
        await queryClient.invalidateQueries({ queryKey: trpc.clusters.list.queryKey() });
      },
    }),
  );

  function close() {
    setRotated(null);
    setGraceHours(24);
    rotate.reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (clusterId) rotate.mutate({ id: clusterId, graceHours: Number(graceHours) });
  }

  const graceError =
    typeof graceHours !== "number" || graceHours < 0 || graceHours > 720
      ? "Use a number of hours from 0 to 720."
      : undefined;

  return (
    <Modal
      opened={clusterId !== null}
      onClose={close}
      title={rotated ? "Copy the new ingest key" : `Rotate the ingest key of ${clusterId ?? ""}`}
      closeOnClickOutside={!rotated}
      closeOnEscape={!rotated}
      size="lg"
    >
      {rotated ? (
        <OneTimeSecret
          label="Ingest secret"
          value={rotated.secret}
          copyLabel="Copy secret"
          onDone={close}
          warning={rotatedKeyWarning(rotated.sensorKeySecret, formatDateTime(rotated.oldKeysRetireAt))}
          extra={
            <>
              {notUpdated ? (
                <Alert color="orange" variant="light" icon={<IconAlertCircle />} title="Secret not updated">
                  {notUpdated}
                </Alert>
              ) : null}
              {clusterId ? <AgentEnrollmentPanel clusterId={clusterId} secret={rotated.secret} /> : null}
            </>
          }
        />
      ) : (
        <form onSubmit={submit} noValidate>
          <Fieldset variant="unstyled" disabled={rotate.isPending}>
            <Stack gap="md">
              <Text size="sm">
                A new key is issued at once. Sensors still using an old key keep reporting until the grace
                period ends.
              </Text>
              <NumberInput
                label="Grace period (hours)"
                description="0 retires the old keys immediately; at most 720 (30 days)."
                min={0}
                max={720}
                allowDecimal={false}
                value={graceHours}
                error={graceError}
                onChange={setGraceHours}
              />
              <FormError error={rotate.error} />
              <Group justify="flex-end" gap="sm">
                <Button variant="default" onClick={close}>
                  Cancel
                </Button>
                <Button type="submit" loading={rotate.isPending} disabled={graceError !== undefined}>
                  Issue new key
                </Button>
              </Group>
            </Stack>
          </Fieldset>
        </form>
      )}
    </Modal>
  );
}
