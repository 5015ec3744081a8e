"use client";

import { Button, Center, EmptyState } from "@mantine/core";
import { IconMapOff } from "@tabler/icons-react";
import Link from "next/link";

export default function NotFound() {
  return (
    <Center mih="100vh" p="md">
      <EmptyState icon={<IconMapOff />} withIndicatorBackground>
        <EmptyState.Title order={1}>Page not found</EmptyState.Title>
        <EmptyState.Description>
          This address does not match any page of the Tapfleet dashboard. It may be mistyped, or the page may
          have moved.
        </EmptyState.Description>
        <EmptyState.Actions>
          <Button component={Link} href="/fleet">
            Go to Fleet
          </Button>
        </EmptyState.Actions>
      </EmptyState>
    </Center>
  );
}
