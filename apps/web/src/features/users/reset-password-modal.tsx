"use client";

import { Button, Fieldset, Group, Modal, PasswordInput, Stack, Text } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { FormError } from "@/components/status-blocks";
import { minPasswordLength, passwordMessage, validatePassword } from "@/lib/password-rules";
import { fieldErrors } from "@/lib/api-errors";
import { useTRPC } from "@/lib/trpc";

export function ResetPasswordModal({
  user,
  onClose,
}: {
  user: { id: string; username: string } | null;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState(false);
  const setPasswordMutation = useMutation(
    trpc.users.setPassword.mutationOptions({
      // Your own password is changed on the account page, with the current one; this is for others.
      onSuccess: () => setDone(true),
      onError: (err) => {
        const problem = fieldErrors(err).password;
        setError(problem ? passwordMessage(problem) : undefined);
      },
    }),
  );

  function close() {
    setPassword("");
    setError(undefined);
    setDone(false);
    setPasswordMutation.reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!user) return;
    const problem = validatePassword(password);
    setError(problem ?? undefined);
    if (!problem) setPasswordMutation.mutate({ id: user.id, password });
  }

  return (
    <Modal opened={user !== null} onClose={close} title={`Reset password for ${user?.username ?? ""}`}>
      {done ? (
        <Stack gap="md">
          <Text size="sm" role="status">
            The password of {user?.username} has been changed. Give them the new one over a safe channel.
          </Text>
          <Group justify="flex-end">
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={submit} noValidate>
          <Fieldset variant="unstyled" disabled={setPasswordMutation.isPending}>
            <Stack gap="md">
              <Text size="sm" c="dimmed">
                {/* The server ends every session of the user when their password changes. */}
                {`${user?.username ?? "The user"} is signed out everywhere and signs in again with the new password.`}
              </Text>
              <PasswordInput
                label="New password"
                description={`At least ${minPasswordLength} characters and hard to guess: a few uncommon words work well.`}
                required
                autoComplete="new-password"
                data-autofocus
                value={password}
                error={error}
                onChange={(event) => {
                  setPassword(event.currentTarget.value);
                  setError(undefined);
                }}
              />
              <FormError error={setPasswordMutation.isError && !error ? setPasswordMutation.error : null} />
              <Group justify="flex-end" gap="sm">
                <Button variant="default" onClick={close}>
                  Cancel
                </Button>
                <Button type="submit" loading={setPasswordMutation.isPending}>
                  Save new password
                </Button>
              </Group>
            </Stack>
          </Fieldset>
        </form>
      )}
    </Modal>
  );
}
