// Unit tests of the dashboard's pure helpers. Runs on its own (`npx vitest run --config
// apps/web/vitest.config.ts`) because the root config only lists packages/ and apps/server.
import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.join(import.meta.dirname, "src") } },
  test: { include: ["src/**/*.test.ts"], root: import.meta.dirname },
});
