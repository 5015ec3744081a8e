"use client";

import { Box, Tooltip } from "@mantine/core";
import type { ReactNode } from "react";

/** A disabled control says why on hover and focus; the wrapper receives the events the disabled control cannot. */
export function WhyDisabled({ reason, children }: { reason: string | null; children: ReactNode }) {
  if (!reason) return children;
  return (
    <Tooltip label={reason} withArrow>
      <Box component="span" tabIndex={0} style={{ display: "inline-block" }}>
        {children}
      </Box>
    </Tooltip>
  );
}
