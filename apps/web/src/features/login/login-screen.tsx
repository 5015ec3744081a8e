"use client";

import {
  Alert,
  Button,
  Center,
  Fieldset,
  Group,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useInterval } from "@mantine/hooks";
import { IconAlertCircle, IconRadar } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { ColorSchemeToggle } from "@/components/color-scheme-toggle";
import { errorCode, errorMessage, fieldErrors, retryAfterSeconds } from "@/lib/api-errors";
import { useTRPC } from "@/lib/trpc";
import { safeNextPath } from "./safe-next";

export function LoginScreen() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const next = safeNextPath(useSearchParams().get("next"));
  const me = useQuery(trpc.auth.me.queryOptions());
  const systemInfo = useQuery(trpc.system.info.queryOptions(undefined, { staleTime: Infinity }));

  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [missing, setMissing] = useState<{ username?: string; password?: string }>({});
  const [waitSeconds, setWaitSeconds] = useState(0);
  const countdown = useInterval(() => setWaitSeconds((seconds) => Math.max(0, seconds - 1)), 1000);

  // Already signed in (another tab, or back button): go straight on.
  useEffect(() => {
    if (me.data?.user) router.replace(next);
  }, [me.data, next, router]);

  useEffect(() => {
    if (waitSeconds === 0) countdown.stop();
  }, [waitSeconds, countdown]);

  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: (result) => {
        // Start the new session from a clean cache, already knowing who signed in.
        queryClient.removeQueries();
        queryClient.setQueryData(trpc.auth.me.queryKey(), { user: result.user });
        router.replace(next);
      },
      onError: (error) => {
        if (errorCode(error) === "TOO_MANY_REQUESTS") {
          setWaitSeconds(retryAfterSeconds(error) ?? 60);
          countdown.start();
        }
      },
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    const found = {
      username: username.trim() ? undefined : "Enter your username.",
      password: password ? undefined : "Enter your password.",
    };
    setMissing(found);
    if (found.username || found.password) return;
    login.mutate({ username: username.trim(), password });
  }

  const serverFields = login.isError ? fieldErrors(login.error) : {};
  // A refusal about a field is shown under that field; the alert is for everything else.
  const onFields = Boolean(serverFields.username ?? serverFields.password);
  const rateLimited = login.isError && errorCode(login.error) === "TOO_MANY_REQUESTS";
  const busy = login.isPending || login.isSuccess;

  return (
    <Center mih="100vh" p="md">
      <Stack w="100%" maw={400} gap="lg">
        <Group justify="space-between">
          <Group gap={8}>
            <IconRadar size={28} aria-hidden />
            <Text fw={700} size="xl">
              Tapfleet
            </Text>
          </Group>
          <ColorSchemeToggle />
        </Group>
        <Paper withBorder shadow="sm" p="xl" radius="lg">
          <form onSubmit={submit} noValidate aria-label="Sign in">
            <Fieldset variant="unstyled" disabled={busy}>
              <Stack gap="md">
                <Title order={1} size="h3">
                  Sign in
                </Title>
                {login.isError && !onFields ? (
                  <Alert color="red" variant="light" icon={<IconAlertCircle />} role="alert">
                    {rateLimited
                      ? waitSeconds > 0
                        ? `Too many sign-in attempts. Try again in ${waitSeconds} s.`
                        : "You can try again now."
                      : errorMessage(login.error)}
                  </Alert>
                ) : null}
                <TextInput
                  label="Username"
                  autoComplete="username"
                  autoCapitalize="none"
                  spellCheck={false}
                  autoFocus
                  required
                  value={username}
                  error={missing.username ?? serverFields.username}
                  onChange={(event) => {
                    setUsername(event.currentTarget.value);
                    setMissing((current) => ({ ...current, username: undefined }));
                  }}
                />
                <PasswordInput
                  label="Password"
                  autoComplete="current-password"
                  required
                  value={password}
                  error={missing.password ?? serverFields.password}
                  onChange={(event) => {
                    setPassword(event.currentTarget.value);
                    setMissing((current) => ({ ...current, password: undefined }));
                  }}
                />
                <Button type="submit" fullWidth loading={busy} disabled={waitSeconds > 0}>
                  Sign in
                </Button>
              </Stack>
            </Fieldset>
          </form>
        </Paper>
        <Text size="xs" c="dimmed" ta="center">
          {systemInfo.data ? `Tapfleet ${systemInfo.data.version}` : " "}
        </Text>
      </Stack>
    </Center>
  );
}
