// Prisma CLI configuration. Only `prisma generate` is run through the CLI:
// migrations are applied by @tapfleet/db with the WASM schema engine, because
// the CLI's native engine cannot be downloaded on offline machines.
import { defineConfig } from "prisma/config";

process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= "/bin/false";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/tapfleet" },
});
