// The request log: one line per request, at debug when it was answered and at
// info when it was refused, never with the query string or the credentials.
// Every agent uploads every few seconds, so two info lines per request (Fastify's
// default) buried everything else in the server's log. Real server and database.
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadServerEnv } from "../src/env.ts";
import { startServer, type RunningServer } from "../src/start.ts";
import { ADMIN_PASSWORD } from "./harness.ts";

type Line = { level: number; msg: string; method?: string; path?: string; statusCode?: number; ms?: number };
let database: TestDatabase;
let server: RunningServer;
const lines: Line[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const env = loadServerEnv({
    DATABASE_URL: database.url,
    PORT: "0",
    TAPFLEET_SERVE_DASHBOARD: "false",
    TAPFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: "debug",
  });
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => void lines.push(JSON.parse(line) as Line) },
  );
  server = await startServer({ env, logger, announce: () => undefined });
});

afterAll(async () => {
  await server?.stop();
  await database?.stop();
});

it("logs an answered request once at debug and a refused one once at info, without query or credentials", async () => {
  const answered = await fetch(`${server.url}/healthz?probe=1`);
  expect(answered.status).toBe(200);
  const refused = await fetch(`${server.url}/api/v1/clusters?limit=5`, {
    headers: { authorization: "Bearer tf_not-a-real-token-0123456789" },
  });
  expect(refused.status).toBe(401);

  const about = (path: string) => lines.filter((line) => line.path === path);
  expect(about("/healthz")).toEqual([
    expect.objectContaining({ level: 20, msg: "request answered", method: "GET", statusCode: 200 }),
  ]);
  expect(about("/api/v1/clusters")).toEqual([
    expect.objectContaining({ level: 30, msg: "request refused", method: "GET", statusCode: 401 }),
  ]);
  // Fastify's own pair of lines per request is gone.
  expect(lines.filter((line) => line.msg === "incoming request" || line.msg === "request completed")).toEqual(
    [],
  );
  const text = JSON.stringify(lines);
  expect(text).not.toContain("probe=1");
  expect(text).not.toContain("not-a-real-token");
});
