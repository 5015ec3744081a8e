"use client";

import { Button, Fieldset, Group, Modal, PasswordInput, Select, Stack, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { FormError } from "@/components/status-blocks";
import { fieldMessage, normalizeUsername, usernameLength, validateUsername } from "@/lib/account-rules";
import { minPasswordLength, validatePassword } from "@/lib/password-rules";
import { errorCode, fieldErrors } from "@/lib/api-errors";
import { roleLabels, roles, type Role } from "@/lib/roles";
import { useTRPC } from "@/lib/trpc";

const roleOptions = roles.map((role) => ({ value: role, label: roleLabels[role] }));

type Field = "username" | "displayName" | "role" | "password";

export function CreateUserModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});

  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: async (user) => {
        await queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
        notifications.show({
          color: "green",
          title: "User created",
          message: `${user.username} can now sign in.`,
        });
        close();
      },
      onError: (error) => {
        const fromServer: Partial<Record<Field, string>> = fieldErrors(error);
        // The server's messages are about the value; say which field, as the form's own checks do.
        if (fromServer.username) fromServer.username = fieldMessage("Username", fromServer.username);
        if (fromServer.password) fromServer.password = fieldMessage("Password", fromServer.password);
        // A taken username is a conflict, not a validation error, but it belongs next to the field.
        if (errorCode(error) === "CONFLICT" && !fromServer.username) fromServer.username = error.message;
        setErrors(fromServer);
      },
    }),
  );

  function close() {
    setUsername("");
    setDisplayName("");
    setRole("viewer");
    setPassword("");
    setErrors({});
    create.reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Partial<Record<Field, string>> = {};
    const usernameError = validateUsername(username);
    if (usernameError) found.username = usernameError;
    const passwordError = validatePassword(password);
    if (passwordError) found.password = passwordError;
    if (displayName.trim().length > 128) found.displayName = "Use at most 128 characters.";
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    create.mutate({ username, displayName: displayName.trim() || undefined, role, password });
  }

  // Usernames are case-insensitive: say how a name with capitals will be stored.
  const storedAs = normalizeUsername(username);
  const usernameHint =
    storedAs !== username.trim() && !validateUsername(username)
      ? `Usernames are not case-sensitive: this one is saved as “${storedAs}”.`
      : `${usernameLength.min}–${usernameLength.max} characters: letters, digits, dots, underscores, hyphens.`;

  const clear = (field: Field) => setErrors(({ [field]: _dropped, ...rest }) => rest);
  // Field-level problems are shown on the fields; the banner is for everything else.
  const generalError = create.isError && Object.keys(errors).length === 0 ? create.error : null;

  return (
    <Modal opened={opened} onClose={close} title="New user">
      <form onSubmit={submit} noValidate>
        <Fieldset variant="unstyled" disabled={create.isPending}>
          <Stack gap="md">
            <TextInput
              label="Username"
              description={usernameHint}
              required
              autoComplete="off"
              data-autofocus
              value={username}
              error={errors.username}
              onChange={(event) => {
                setUsername(event.currentTarget.value);
                clear("username");
              }}
            />
            <TextInput
              label="Display name"
              description="Optional. Shown in the header and the audit log."
              autoComplete="off"
              value={displayName}
              error={errors.displayName}
              onChange={(event) => {
                setDisplayName(event.currentTarget.value);
                clear("displayName");
              }}
            />
            <Select
              label="Role"
              description="Viewers read; operators also change configuration and run rollouts; admins also manage users."
              data={roleOptions}
              value={role}
              allowDeselect={false}
              error={errors.role}
              onChange={(value) => value && setRole(value)}
            />
            <PasswordInput
              label="Password"
              description={`At least ${minPasswordLength} characters and hard to guess (a few uncommon words work well). Share it with the user over a safe channel.`}
              required
              autoComplete="new-password"
              value={password}
              error={errors.password}
              onChange={(event) => {
                setPassword(event.currentTarget.value);
                clear("password");
              }}
            />
            <FormError error={generalError} />
            <Group justify="flex-end" gap="sm">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={create.isPending}>
                Create user
              </Button>
            </Group>
          </Stack>
        </Fieldset>
      </form>
    </Modal>
  );
}
