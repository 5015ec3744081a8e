import type { NextConfig } from "next";

const config: NextConfig = {
  // The API and sensor packages point at their TypeScript source (house style), so Next must
  // compile them; the dashboard imports the API's types and the sensor contract's zod schemas.
  transpilePackages: ["@tapfleet/api", "@tapfleet/sensor"],
  // A type error must fail the build: the server's `npm start` runs it, so drift between the
  // router and the dashboard shows up before anyone clicks on a broken page.
  typescript: { ignoreBuildErrors: false },
  // Says which framework (and so which known bugs) is behind the dashboard, to anyone who asks.
  poweredByHeader: false,
  // Tabler ships one module per icon; this keeps builds and bundles small.
  experimental: { optimizePackageImports: ["@tabler/icons-react", "@mantine/core", "@mantine/hooks"] },
  // Temporary (307) so the landing pages can change without browsers caching the old ones.
  // /settings goes to tokens, the one settings page every role can use.
  redirects: () =>
    Promise.resolve([
      { source: "/", destination: "/fleet", permanent: false },
      { source: "/settings", destination: "/settings/tokens", permanent: false },
    ]),
};

export default config;
