"use client";

import { Button, Center, EmptyState } from "@mantine/core";
import { IconMapOff } from "@tabler/icons-react";
import Link from "next/link";

export default function NotFound() {
  return (
    <Center mih="100vh" p="md">
      <EmptyState
        icon={<IconMapOff />}
        withIndicatorBackground
        title="Page not found"
        description="This address does not match any page of the Tapfleet dashboard."
      >
        <EmptyState.Actions>
          <Button component={Link} href="/fleet">
            Go to Fleet
          </Button>
        </EmptyState.Actions>
      </EmptyState>
    </Center>
  );
}
