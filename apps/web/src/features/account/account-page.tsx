"use client";

import { Badge, Button, Fieldset, Group, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation } from "@tanstack/react-query";
import { ZChangeMyPasswordInputSchema } from "@tapfleet/sensor/passwords";
import { useState, type FormEvent } from "react";
import { useCurrentUser } from "@/components/current-user";
import { PageHeader } from "@/components/page-header";
import { FormError } from "@/components/status-blocks";
import { minPasswordLength, passwordMessage } from "@/lib/password-rules";
import { fieldErrors } from "@/lib/api-errors";
import { roleColors, roleLabels } from "@/lib/roles";
import { useTRPC } from "@/lib/trpc";

export function AccountPage() {
  const user = useCurrentUser();
  return (
    <>
      <PageHeader title="Your account" description="Who you are signed in as, and your password." />
      <Stack gap="lg" maw={560}>
        <Paper withBorder radius="md" p="lg">
          <Group justify="space-between" wrap="nowrap">
            <Stack gap={2}>
              <Text fw={600}>{user.displayName ?? user.username}</Text>
              <Text size="sm" c="dimmed">
                Signed in as {user.username}
              </Text>
            </Stack>
            <Badge color={roleColors[user.role]}>{roleLabels[user.role]}</Badge>
          </Group>
        </Paper>
        <ChangePasswordForm />
      </Stack>
    </>
  );
}

type Field = "currentPassword" | "newPassword" | "confirmPassword";

const labels: Record<Field, string> = {
  currentPassword: "Current password",
  newPassword: "New password",
  confirmPassword: "New password again",
};

function ChangePasswordForm() {
  const trpc = useTRPC();
  const [values, setValues] = useState<Record<Field, string>>({
    currentPassword: "",
    newPassword: "",
    confirmPassword: "",
  });
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});

  const change = useMutation(
    trpc.users.changeMyPassword.mutationOptions({
      onSuccess: ({ otherSessionsEnded }) => {
        setValues({ currentPassword: "", newPassword: "", confirmPassword: "" });
        setErrors({});
        notifications.show({
          color: "green",
          title: "Password changed",
          message:
            otherSessionsEnded === 0
              ? "Use it the next time you sign in. You stay signed in here."
              : `Your ${otherSessionsEnded === 1 ? "other session was" : `${otherSessionsEnded} other sessions were`} signed out. You stay signed in here.`,
        });
      },
      onError: (error) => setErrors(describe(fieldErrors(error))),
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    // The server's own rule, so what is refused here is exactly what it would refuse.
    const parsed = ZChangeMyPasswordInputSchema.safeParse(values);
    const found: Partial<Record<Field, string>> = {};
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] as Field;
        found[field] ??= issue.message;
      }
    }
    if (!found.newPassword && values.confirmPassword !== values.newPassword)
      found.confirmPassword = "does not match the new password";
    setErrors(describe(found));
    if (Object.keys(found).length === 0)
      change.mutate({ currentPassword: values.currentPassword, newPassword: values.newPassword });
  }

  const input = (field: Field, extra: { description?: string; autoComplete: string }) => (
    <PasswordInput
      label={labels[field]}
      required
      value={values[field]}
      error={errors[field]}
      onChange={(event) => {
        const value = event.currentTarget.value;
        setValues((previous) => ({ ...previous, [field]: value }));
        setErrors(({ [field]: _dropped, ...rest }) => rest);
      }}
      {...extra}
    />
  );

  return (
    <Paper withBorder radius="md" p="lg">
      <form onSubmit={submit} noValidate aria-labelledby="change-password-title">
        <Fieldset variant="unstyled" disabled={change.isPending}>
          <Stack gap="md">
            <Stack gap={4}>
              <Title order={2} size="h4" id="change-password-title">
                Change password
              </Title>
              <Text size="sm" c="dimmed">
                Your other sessions are signed out; this one stays signed in. API tokens keep working.
              </Text>
            </Stack>
            {input("currentPassword", { autoComplete: "current-password" })}
            {input("newPassword", {
              autoComplete: "new-password",
              description: `At least ${minPasswordLength} characters and hard to guess: a few uncommon words work well.`,
            })}
            {input("confirmPassword", { autoComplete: "new-password" })}
            <FormError error={change.isError && Object.keys(errors).length === 0 ? change.error : null} />
            <Group justify="flex-end">
              <Button type="submit" loading={change.isPending}>
                Change password
              </Button>
            </Group>
          </Stack>
        </Fieldset>
      </form>
    </Paper>
  );
}

/** The rule's messages are predicates ("is not your current password"); each field gets a subject. */
function describe(found: Partial<Record<string, string>>): Partial<Record<Field, string>> {
  const out: Partial<Record<Field, string>> = {};
  for (const field of Object.keys(labels) as Field[]) {
    const message = found[field];
    if (message) out[field] = field === "newPassword" ? passwordMessage(message) : `This ${message}`;
  }
  return out;
}
