import "@mantine/core/styles.css";
import { ColorSchemeScript, mantineHtmlProps } from "@mantine/core";
import type { Metadata } from "next";
import type { ReactNode } from "react";
import { colorSchemeStorageKey } from "@/theme";
import { Providers } from "./providers";

export const metadata: Metadata = {
  title: { default: "Tapfleet", template: "%s · Tapfleet" },
  description: "Fleet manager for packet-capture sensors on Kubernetes",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    // mantineHtmlProps suppresses the hydration warning caused by ColorSchemeScript setting
    // data-mantine-color-scheme on <html> before React loads (which is what avoids a flash).
    <html lang="en" {...mantineHtmlProps}>
      <head>
        <ColorSchemeScript defaultColorScheme="auto" localStorageKey={colorSchemeStorageKey} />
      </head>
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
