"use client";

import { Button, Fieldset, Group, Modal, Stack, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { OneTimeSecret } from "@/components/one-time-secret";
import { FormError } from "@/components/status-blocks";
import { errorCode, errorMessage, fieldErrors } from "@/lib/api-errors";
import { fieldMessage } from "@/lib/account-rules";
import { clusterIdLabel, validateClusterId } from "@/lib/cluster-rules";
import { useTRPC } from "@/lib/trpc";
import { AgentEnrollmentPanel } from "./agent-enrollment-panel";

type Field = "id" | "displayName";

/** Registers a cluster, then shows its first ingest key, which the server returns only this once. */
export function RegisterClusterModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [id, setId] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [created, setCreated] = useState<{ clusterId: string; keyId: string; secret: string } | null>(null);

  const create = useMutation(
    trpc.clusters.create.mutationOptions({
      onSuccess: async (result) => {
        setCreated(result);
        await queryClient.invalidateQueries({ queryKey: trpc.clusters.list.queryKey() });
      },
      onError: (error) => {
        const fromServer: Partial<Record<Field, string>> = fieldErrors(error);
        // Phrased like the form's own check of the same rule.
        if (fromServer.id) fromServer.id = fieldMessage(clusterIdLabel, fromServer.id);
        if (errorCode(error) === "CONFLICT" && !fromServer.id) fromServer.id = errorMessage(error);
        setErrors(fromServer);
      },
    }),
  );

  function close() {
    setCreated(null);
    setId("");
    setDisplayName("");
    setErrors({});
    create.reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const problem = validateClusterId(id.trim());
    const found: Partial<Record<Field, string>> = problem ? { id: problem } : {};
    if (displayName.trim().length > 128) found.displayName = "Use at most 128 characters.";
    setErrors(found);
    if (Object.keys(found).length === 0) {
      create.mutate({ id: id.trim(), displayName: displayName.trim() || undefined });
    }
  }

  const clear = (field: Field) => setErrors(({ [field]: _dropped, ...rest }) => rest);
  const generalError = create.isError && Object.keys(errors).length === 0 ? create.error : null;

  return (
    <Modal
      opened={opened}
      onClose={close}
      title={created ? "Copy the ingest key" : "Register a cluster"}
      closeOnClickOutside={!created}
      closeOnEscape={!created}
      size="lg"
    >
      {created ? (
        <OneTimeSecret
          label="Ingest secret"
          value={created.secret}
          copyLabel="Copy secret"
          onDone={close}
          warning={
            <>
              The sensors of “{created.clusterId}” sign their reports with this key. Create the sensors&apos;
              Secret now: Tapfleet shows the key only this once. If it is lost, rotate the key.
            </>
          }
          extra={<AgentEnrollmentPanel clusterId={created.clusterId} secret={created.secret} />}
        />
      ) : (
        <form onSubmit={submit} noValidate>
          <Fieldset variant="unstyled" disabled={create.isPending}>
            <Stack gap="md">
              <TextInput
                label={clusterIdLabel}
                description="A short, permanent name: lowercase letters, digits and hyphens, e.g. prod-eu-1."
                required
                autoComplete="off"
                data-autofocus
                value={id}
                error={errors.id}
                onChange={(event) => {
                  setId(event.currentTarget.value);
                  clear("id");
                }}
              />
              <TextInput
                label="Display name"
                description="Optional. How the cluster is shown in the dashboard."
                autoComplete="off"
                value={displayName}
                error={errors.displayName}
                onChange={(event) => {
                  setDisplayName(event.currentTarget.value);
                  clear("displayName");
                }}
              />
              <FormError error={generalError} />
              <Group justify="flex-end" gap="sm">
                <Button variant="default" onClick={close}>
                  Cancel
                </Button>
                <Button type="submit" loading={create.isPending}>
                  Register cluster
                </Button>
              </Group>
            </Stack>
          </Fieldset>
        </form>
      )}
    </Modal>
  );
}
