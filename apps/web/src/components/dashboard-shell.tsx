"use client";

import {
  AppShell,
  Badge,
  Burger,
  Button,
  Center,
  Group,
  ScrollArea,
  Text,
  UnstyledButton,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { IconLogout, IconRadar } from "@tabler/icons-react";
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { roleColors, roleLabels } from "@/lib/roles";
import { SERVER_RENDERED_FRESH_MS, useTRPC } from "@/lib/trpc";
import { useHydrated } from "@/lib/use-hydrated";
import { ColorSchemeToggle } from "./color-scheme-toggle";
import { CurrentUserProvider, type CurrentUser } from "./current-user";
import { NavLinks } from "./nav-links";
import { LoadingBlock, QueryError } from "./status-blocks";

/**
 * The frame of every signed-in page. The server's render reads the session first (the dashboard's
 * layout: no session, no page, a redirect to /login?next=…) and hands `auth.me` over with the HTML,
 * so the frame and the page render at once. A session that ends while the page is open (an
 * UNAUTHORIZED answer re-checks it, see lib/trpc.ts) sends the browser to /login?next=… from here.
 */
export function DashboardShell({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const me = useQuery(trpc.auth.me.queryOptions(undefined, { staleTime: SERVER_RENDERED_FRESH_MS }));
  const user = me.data?.user;

  useEffect(() => {
    if (me.data && me.data.user === null) {
      // Read from window rather than useSearchParams: this only ever runs in the browser, and the
      // shell need not re-render with every change of a page's search parameters.
      const next = `${window.location.pathname}${window.location.search}`;
      router.replace(`/login?next=${encodeURIComponent(next)}`);
    }
  }, [me.data, router]);

  if (me.isPending) return <LoadingBlock label="Checking your session…" />;
  if (me.isError) {
    return (
      <Center p="xl">
        <QueryError title="Could not check your session" error={me.error} onRetry={() => void me.refetch()} />
      </Center>
    );
  }
  if (!user) return <LoadingBlock label="Redirecting to sign in…" />;
  return (
    <CurrentUserProvider value={user}>
      <Frame user={user}>{children}</Frame>
    </CurrentUserProvider>
  );
}

function Frame({ user, children }: { user: CurrentUser; children: ReactNode }) {
  const trpc = useTRPC();
  // The page is shown before its scripts run, and a click that landed before React listens would
  // be lost (a menu that never opens), so the frame is inert until hydrated.
  const hydrated = useHydrated();
  const [navbarOpened, navbar] = useDisclosure(false);
  const systemInfo = useQuery(trpc.system.info.queryOptions(undefined, { staleTime: Infinity }));
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      // A full page load rather than client navigation: it drops every cached answer that
      // belonged to this session.
      onSuccess: () => window.location.assign("/login"),
    }),
  );

  return (
    <AppShell
      inert={!hydrated}
      header={{ height: 60 }}
      navbar={{ width: 248, breakpoint: "sm", collapsed: { mobile: !navbarOpened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={navbarOpened}
              onClick={navbar.toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label="Toggle navigation"
            />
            {/* Not a link: "Tapfleet" would match a test's (or a voice user's) "Fleet" link by name. */}
            <Group gap={8} wrap="nowrap">
              <IconRadar size={24} aria-hidden />
              <Text span fw={700} size="lg">
                Tapfleet
              </Text>
            </Group>
          </Group>
          <Group gap="sm" wrap="nowrap">
            {/* The way to your account page, where you change your password. */}
            <UnstyledButton component={Link} href="/account" title="Your account" visibleFrom="xs">
              <Group gap={8} wrap="nowrap" data-testid="current-user">
                <Text size="sm" fw={500}>
                  {user.displayName ?? user.username}
                </Text>
                <Badge color={roleColors[user.role]} aria-label={`Role: ${roleLabels[user.role]}`}>
                  {roleLabels[user.role]}
                </Badge>
              </Group>
            </UnstyledButton>
            <ColorSchemeToggle />
            <Button
              variant="default"
              leftSection={<IconLogout size={16} />}
              loading={logout.isPending}
              onClick={() => logout.mutate()}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="sm" aria-label="Main navigation">
        <AppShell.Section grow component={ScrollArea}>
          <NavLinks role={user.role} onNavigate={navbar.close} />
        </AppShell.Section>
        <AppShell.Section pt="sm">
          <Text size="xs" c="dimmed">
            {systemInfo.data
              ? `Tapfleet ${systemInfo.data.version} · ${systemInfo.data.database} database`
              : "Tapfleet"}
          </Text>
        </AppShell.Section>
      </AppShell.Navbar>

      <AppShell.Main>
        {logout.isError ? <QueryError title="Could not sign out" error={logout.error} /> : null}
        {children}
      </AppShell.Main>
    </AppShell>
  );
}
