import "@mantine/core/styles.css";
import "@mantine/notifications/styles.css";
import { ColorSchemeScript, mantineHtmlProps } from "@mantine/core";
import type { Metadata } from "next";
import type { ReactNode } from "react";
import { headers } from "next/headers";
import { colorSchemeStorageKey } from "@/theme";
import { Providers } from "./providers";

export const metadata: Metadata = {
  title: { default: "Tapfleet", template: "%s · Tapfleet" },
  description: "Fleet manager for packet-capture sensors on Kubernetes",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // The server sets a fresh nonce per response in its Content-Security-Policy (see
  // apps/server/src/security-headers.ts); reading it also renders every page per request,
  // which a nonce needs: a page prerendered at build time would carry no nonce.
  const nonce = (await headers()).get("x-nonce") ?? undefined;
  return (
    // mantineHtmlProps suppresses the hydration warning caused by ColorSchemeScript setting
    // data-mantine-color-scheme on <html> before React loads (which is what avoids a flash).
    <html lang="en" {...mantineHtmlProps}>
      <head>
        <ColorSchemeScript nonce={nonce} defaultColorScheme="auto" localStorageKey={colorSchemeStorageKey} />
      </head>
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
