"use client";

import { EmptyState } from "@mantine/core";
import { IconShieldLock } from "@tabler/icons-react";
import type { ReactNode } from "react";
import { roleAtLeast } from "@/lib/roles";
import { useCurrentUser } from "./current-user";

/**
 * Shows admin pages to admins only. The server refuses these calls anyway; this saves a
 * non-admin from a page of FORBIDDEN errors and tells them what they need.
 */
export function AdminOnly({ what, children }: { what: string; children: ReactNode }) {
  const user = useCurrentUser();
  if (roleAtLeast(user.role, "admin")) return children;
  return (
    <EmptyState
      py="xl"
      icon={<IconShieldLock />}
      withIndicatorBackground
      title="You need the admin role"
      description={`Only admins can ${what}. You are signed in as ${user.username} with the ${user.role} role; ask an admin if you need access.`}
    />
  );
}
