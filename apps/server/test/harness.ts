// A real server on a free port against a real, throw-away PostgreSQL.
import { createApiToken, createUser, type Role } from "@tapfleet/core";
import { createDb, createLiveBus, type Db, type LiveBus } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { loadServerEnv } from "../src/env.ts";
import { createLogger, startServer, type RunningServer } from "../src/start.ts";

export const ADMIN_PASSWORD = "admin-password-for-tests";

export interface TestServer {
  url: string;
  db: Db;
  /** A live bus on the same database, as another replica's: what it publishes reaches the server. */
  bus: LiveBus;
  database: TestDatabase;
  server: RunningServer;
  stop(): Promise<void>;
  /** Signs in and returns the session cookie header value. */
  login(username: string, password: string): Promise<string>;
  /** A user of the role with a token of the same role. */
  userWithToken(
    role: Role,
    name?: string,
  ): Promise<{ userId: string; username: string; password: string; token: string }>;
  trpc(path: string, init?: { input?: unknown; auth?: Auth; method?: "GET" | "POST" }): Promise<TrpcResult>;
}

export type Auth = { cookie: string } | { bearer: string } | { header: string } | undefined;
export interface TrpcResult {
  status: number;
  body: {
    result?: { data: unknown };
    error?: {
      message: string;
      data: { appCode: string; code: string; zodError: unknown; retryAfterSeconds: number | null };
    };
  };
}

export function authHeaders(auth: Auth): Record<string, string> {
  if (!auth) return {};
  if ("cookie" in auth) return { cookie: auth.cookie };
  if ("bearer" in auth) return { authorization: `Bearer ${auth.bearer}` };
  return { authorization: auth.header };
}

export async function startTestServer(
  extraEnv: Record<string, string> = {},
  /** Controller settings a test changes (a periodic round made longer than the test, say). */
  controllers: Pick<Parameters<typeof startServer>[0], "sensorDrift"> = {},
): Promise<TestServer> {
  const database = await createTestDatabase();
  const env = loadServerEnv({
    DATABASE_URL: database.url,
    PORT: "0",
    TAPFLEET_SERVE_DASHBOARD: "false",
    TAPFLEET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    ...extraEnv,
  });
  const server = await startServer({
    env,
    logger: createLogger(env.LOG_LEVEL),
    announce: () => undefined,
    ...controllers,
  });
  const db = createDb({ url: database.url, maxConnections: 3 });
  const url = server.url;

  const trpc: TestServer["trpc"] = async (path, init = {}) => {
    const method = init.method ?? (init.input === undefined ? "GET" : "POST");
    const target =
      method === "GET" && init.input !== undefined
        ? `${url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(init.input))}`
        : `${url}/trpc/${path}`;
    const response = await fetch(target, {
      method,
      headers: {
        ...(method === "POST" ? { "content-type": "application/json" } : {}),
        ...authHeaders(init.auth),
      },
      ...(method === "POST" ? { body: JSON.stringify(init.input ?? {}) } : {}),
    });
    return { status: response.status, body: (await response.json()) as TrpcResult["body"] };
  };

  const bus = await createLiveBus({ url: database.url });
  let counter = 0;
  return {
    url,
    db,
    bus,
    database,
    server,
    trpc,
    async stop() {
      await bus.close();
      await db.$disconnect();
      await server.stop();
      await database.stop();
    },
    async login(username, password) {
      const response = await fetch(`${url}/trpc/auth.login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
      if (response.status !== 200)
        throw new Error(`login as ${username} failed: ${response.status} ${await response.text()}`);
      const cookie = response.headers.getSetCookie().find((c) => c.startsWith("tapfleet_session="));
      if (!cookie) throw new Error("login set no session cookie");
      return cookie.split(";")[0]!;
    },
    async userWithToken(role, name) {
      counter += 1;
      const username = name ?? `${role}-${counter}`;
      const password = `${username}-password-123`;
      const user = await createUser({ db, username, role, password });
      const { secret } = await createApiToken({
        db,
        creator: { type: "user", id: user.id, name: user.username, role, sessionId: "" },
        name: `${username}-token`,
        role,
      });
      return { userId: user.id, username, password, token: secret };
    },
  };
}

/**
 * Opens the `sensors.live` subscription on `baseUrl` and calls `send` until a
 * summary for `nodeName` arrives (or 50 sends have gone unanswered). The
 * subscription registers as the stream starts and a report sent before that
 * is, by design, not replayed; so sending goes on until one comes through.
 */
export async function awaitLiveSummary(options: {
  baseUrl: string;
  token: string;
  nodeName: string;
  input?: unknown;
  send: () => Promise<void>;
}): Promise<{ nodeName: string; packets: number } | undefined> {
  const controller = new AbortController();
  const query =
    options.input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(options.input))}`;
  const response = await fetch(`${options.baseUrl}/trpc/sensors.live${query}`, {
    headers: { authorization: `Bearer ${options.token}`, accept: "text/event-stream" },
    signal: controller.signal,
  });
  if (response.status !== 200) throw new Error(`sensors.live answered ${response.status}`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const pattern = new RegExp(`data: (\\{.*"${options.nodeName}".*\\})`);
  let buffer = "";
  let summary: { nodeName: string; packets: number } | undefined;
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const match = pattern.exec(buffer);
      if (match) {
        summary = JSON.parse(match[1]!) as { nodeName: string; packets: number };
        return;
      }
    }
  })().catch(() => undefined);
  for (let attempt = 0; attempt < 50 && !summary; attempt++) {
    await options.send();
    await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 100))]);
  }
  controller.abort();
  return summary;
}
