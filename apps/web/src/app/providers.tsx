"use client";

// First, before any schema parses: see the module.
import "@/lib/zod-csp";
import { localStorageColorSchemeManager, MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { createApiClient, createQueryClient, TRPCProvider } from "@/lib/trpc";
import { colorSchemeStorageKey, theme } from "@/theme";

// Per-browser choice, same key as ColorSchemeScript so the first paint already has the right scheme.
const colorSchemeManager = localStorageColorSchemeManager({ key: colorSchemeStorageKey });

export function Providers({ children }: { children: ReactNode }) {
  // One client per browser tab, created lazily so server rendering never shares a cache between requests.
  const [queryClient] = useState(createQueryClient);
  const [trpcClient] = useState(createApiClient);
  return (
    <MantineProvider theme={theme} defaultColorScheme="auto" colorSchemeManager={colorSchemeManager}>
      {/* Confirms that an action happened (a role changed, a password saved) without a dialog. */}
      <Notifications position="top-right" />
      <QueryClientProvider client={queryClient}>
        <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
          {children}
        </TRPCProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}
