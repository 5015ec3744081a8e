"use client";

import { ActionIcon, Box, Tooltip, useComputedColorScheme, useMantineColorScheme } from "@mantine/core";
import { IconMoon, IconSun } from "@tabler/icons-react";

export function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  // Read in an effect so the server render and the first client render agree (no hydration mismatch).
  const computed = useComputedColorScheme("light", { getInitialValueInEffect: true });
  return (
    <Tooltip label="Toggle light and dark">
      <ActionIcon
        variant="default"
        size="lg"
        aria-label="Toggle color scheme"
        onClick={() => setColorScheme(computed === "light" ? "dark" : "light")}
      >
        {/* Both icons render; CSS shows the right one from the scheme ColorSchemeScript already set. */}
        <Box component="span" darkHidden lh={0}>
          <IconSun size={18} />
        </Box>
        <Box component="span" lightHidden lh={0}>
          <IconMoon size={18} />
        </Box>
      </ActionIcon>
    </Tooltip>
  );
}
