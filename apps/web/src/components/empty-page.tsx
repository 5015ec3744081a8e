"use client";

import { Button, EmptyState, Paper, Text } from "@mantine/core";
import Link from "next/link";
import type { ReactNode } from "react";
import { PageHeader } from "./page-header";

/**
 * A page whose feature has no data yet: it says what will appear here and what to do next,
 * so a first-time user is never left looking at a blank table.
 */
export function EmptyPage(props: {
  title: string;
  description: string;
  icon: ReactNode;
  emptyTitle: string;
  whatAppears: string;
  nextStep: string;
  action?: { label: string; href: string };
}) {
  return (
    <>
      <PageHeader title={props.title} description={props.description} />
      <Paper withBorder p="xl" radius="lg">
        <EmptyState
          icon={props.icon}
          variant="light"
          title={props.emptyTitle}
          description={props.whatAppears}
        >
          <Text size="sm" c="dimmed" ta="center" maw={560}>
            {props.nextStep}
          </Text>
          {props.action ? (
            <EmptyState.Actions>
              <Button component={Link} href={props.action.href} variant="light">
                {props.action.label}
              </Button>
            </EmptyState.Actions>
          ) : null}
        </EmptyState>
      </Paper>
    </>
  );
}
