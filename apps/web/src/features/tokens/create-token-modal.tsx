"use client";

import { Button, Fieldset, Group, Modal, Select, Stack, Text, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useCurrentUser } from "@/components/current-user";
import { OneTimeSecret } from "@/components/one-time-secret";
import { FormError } from "@/components/status-blocks";
import { validateTokenName } from "@/lib/account-rules";
import { fieldErrors } from "@/lib/api-errors";
import { roleLabels, rolesUpTo, type Role } from "@/lib/roles";
import { useTRPC } from "@/lib/trpc";
import { expiryOptions, expiryToIso, localDateString, type ExpiryChoice } from "./token-expiry";

type Field = "name" | "role" | "expiresAt";

/** Two steps in one modal: the form, then the secret, which the server returns exactly once. */
export function CreateTokenModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [expiry, setExpiry] = useState<ExpiryChoice>("30");
  const [date, setDate] = useState("");
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);

  const create = useMutation(
    trpc.tokens.create.mutationOptions({
      onSuccess: async (result) => {
        setCreated({ name: result.token.name, secret: result.secret });
        await queryClient.invalidateQueries({ queryKey: trpc.tokens.list.queryKey() });
      },
      onError: (error) => setErrors(fieldErrors(error)),
    }),
  );

  function close() {
    // Forget the secret as soon as the modal closes: it must not linger in memory or reappear.
    setCreated(null);
    setName("");
    setRole("viewer");
    setExpiry("30");
    setDate("");
    setErrors({});
    create.reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Partial<Record<Field, string>> = {};
    const nameError = validateTokenName(name);
    if (nameError) found.name = nameError;
    const expiresAt = expiryToIso(expiry, date);
    if ("error" in expiresAt) found.expiresAt = expiresAt.error;
    setErrors(found);
    if (Object.keys(found).length > 0 || "error" in expiresAt) return;
    create.mutate({ name: name.trim(), role, expiresAt: expiresAt.iso });
  }

  const clear = (field: Field) => setErrors(({ [field]: _dropped, ...rest }) => rest);
  const generalError = create.isError && Object.keys(errors).length === 0 ? create.error : null;
  const tomorrow = localDateString(new Date(Date.now() + 24 * 60 * 60 * 1000));

  return (
    <Modal
      opened={opened}
      onClose={close}
      title={created ? "Copy your new token" : "New API token"}
      // Once the secret is on screen, a stray click outside must not throw it away.
      closeOnClickOutside={!created}
      closeOnEscape={!created}
      size="lg"
    >
      {created ? (
        <OneTimeSecret
          label="Token secret"
          value={created.secret}
          copyLabel="Copy token"
          onDone={close}
          warning={
            <>
              This is the only time Tapfleet shows the secret of “{created.name}”. Copy it now and store it
              where your pipeline keeps secrets. If it is lost, revoke the token and create a new one.
            </>
          }
        />
      ) : (
        <form onSubmit={submit} noValidate>
          <Fieldset variant="unstyled" disabled={create.isPending}>
            <Stack gap="md">
              <TextInput
                label="Name"
                description="What will use it, e.g. “deploy pipeline, prod cluster”."
                required
                autoComplete="off"
                data-autofocus
                value={name}
                error={errors.name}
                onChange={(event) => {
                  setName(event.currentTarget.value);
                  clear("name");
                }}
              />
              <Select
                label="Role"
                description="What the token may do. It cannot have more rights than you."
                data={rolesUpTo(user.role).map((value) => ({ value, label: roleLabels[value] }))}
                value={role}
                allowDeselect={false}
                error={errors.role}
                onChange={(value) => value && setRole(value)}
              />
              <Select
                label="Expiry"
                data={expiryOptions}
                value={expiry}
                allowDeselect={false}
                error={expiry === "date" ? undefined : errors.expiresAt}
                onChange={(value) => {
                  if (value) setExpiry(value);
                  clear("expiresAt");
                }}
              />
              {expiry === "date" ? (
                <TextInput
                  type="date"
                  label="Expiry date"
                  description="The token stops working at the end of this day (your time zone)."
                  min={tomorrow}
                  required
                  value={date}
                  error={errors.expiresAt}
                  onChange={(event) => {
                    setDate(event.currentTarget.value);
                    clear("expiresAt");
                  }}
                />
              ) : null}
              {expiry === "never" ? (
                <Text size="xs" c="dimmed">
                  A token that never expires works until someone revokes it. Prefer an expiry where you can.
                </Text>
              ) : null}
              <FormError error={generalError} />
              <Group justify="flex-end" gap="sm">
                <Button variant="default" onClick={close}>
                  Cancel
                </Button>
                <Button type="submit" loading={create.isPending}>
                  Create token
                </Button>
              </Group>
            </Stack>
          </Fieldset>
        </form>
      )}
    </Modal>
  );
}
