// One error shape for every REST answer, declared in the OpenAPI document:
// each case below is a real request to a real server over a real PostgreSQL.
import { randomUUID } from "node:crypto";
import { answerForError, ZErrorResponseSchema } from "@tapfleet/api";
import { APP_ERROR_CODES, type AppErrorCode } from "@tapfleet/core";
import { TRPCError } from "@trpc/server";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromFastifyError } from "../src/http-errors.ts";
import { ADMIN_PASSWORD, startTestServer, type TestServer } from "./harness.ts";

let t: TestServer;
let admin: string;
let viewer: { userId: string; username: string; password: string; token: string };
let openapi: {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
  components: { schemas: Record<string, object> };
};

beforeAll(async () => {
  t = await startTestServer();
  admin = await t.login("admin", ADMIN_PASSWORD);
  viewer = await t.userWithToken("viewer", "shape-viewer");
  openapi = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as typeof openapi;
});
afterAll(async () => {
  await t?.stop();
});

type Call = () => Promise<Response>;
const json = { "content-type": "application/json" };
const asViewer = () => ({ authorization: `Bearer ${viewer.token}` });

/** Runs `body` while a table is renamed away, so that the database fails what touches it. */
async function withoutTable<T>(table: string, body: () => Promise<T>): Promise<T> {
  await t.db.$executeRawUnsafe(`ALTER TABLE "${table}" RENAME TO "${table}_away"`);
  try {
    return await body();
  } finally {
    await t.db.$executeRawUnsafe(`ALTER TABLE "${table}_away" RENAME TO "${table}"`);
  }
}

const cases: { name: string; status: number; code: AppErrorCode; call: Call; message?: RegExp }[] = [
  {
    name: "400 validation, naming the field",
    status: 400,
    code: "INVALID_INPUT",
    message: /^username: /,
    call: () =>
      fetch(`${t.url}/api/v1/users`, {
        method: "POST",
        headers: { ...json, cookie: admin },
        body: JSON.stringify({ username: "x", role: "viewer", password: "violet-harbor-lantern-42" }),
      }),
  },
  {
    name: "400 malformed JSON",
    status: 400,
    code: "INVALID_INPUT",
    message: /not valid JSON/,
    call: () =>
      fetch(`${t.url}/api/v1/users`, { method: "POST", headers: { ...json, cookie: admin }, body: "{" }),
  },
  {
    name: "401 without credentials",
    status: 401,
    code: "UNAUTHENTICATED",
    call: () => fetch(`${t.url}/api/v1/users`),
  },
  {
    name: "401 for an unknown token",
    status: 401,
    code: "UNAUTHENTICATED",
    message: /^Unknown API token\.$/,
    call: () =>
      fetch(`${t.url}/api/v1/users`, { headers: { authorization: `Bearer tfk_${"a".repeat(43)}` } }),
  },
  {
    name: "403 for a smaller role",
    status: 403,
    code: "FORBIDDEN",
    message: /^This needs the admin role; you have viewer\.$/,
    call: () => fetch(`${t.url}/api/v1/users`, { headers: asViewer() }),
  },
  {
    name: "404 for an unknown object",
    status: 404,
    code: "NOT_FOUND",
    call: () =>
      fetch(`${t.url}/api/v1/tokens/${randomUUID()}/revoke`, {
        method: "POST",
        headers: { ...json, cookie: admin },
        body: "{}",
      }),
  },
  {
    name: "404 for an unknown REST route",
    status: 404,
    code: "NOT_FOUND",
    call: () => fetch(`${t.url}/api/v1/no-such-thing`, { headers: asViewer() }),
  },
  {
    name: "404 for a route outside the API",
    status: 404,
    code: "NOT_FOUND",
    call: () => fetch(`${t.url}/no-such-page`),
  },
  {
    name: "409 for a name already taken",
    status: 409,
    code: "CONFLICT",
    call: () =>
      fetch(`${t.url}/api/v1/users`, {
        method: "POST",
        headers: { ...json, cookie: admin },
        body: JSON.stringify({ username: "admin", role: "viewer", password: "violet-harbor-lantern-42" }),
      }),
  },
  {
    name: "413 for a body over the limit",
    status: 413,
    code: "PAYLOAD_TOO_LARGE",
    call: () =>
      fetch(`${t.url}/api/v1/users`, {
        method: "POST",
        headers: { ...json, cookie: admin },
        body: JSON.stringify({ username: "x".repeat(2_000_000) }),
      }),
  },
  {
    name: "415 for a body that is not JSON",
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
    call: () =>
      fetch(`${t.url}/api/v1/users`, {
        method: "POST",
        headers: { "content-type": "text/plain", cookie: admin },
        body: "hello",
      }),
  },
  {
    name: "500 for an unexpected failure, without its detail",
    status: 500,
    code: "INTERNAL",
    message: /^Internal server error\.$/,
    call: () => withoutTable("Cluster", () => fetch(`${t.url}/api/v1/clusters`, { headers: asViewer() })),
  },
  {
    name: "a pcap download's 404",
    status: 404,
    code: "NOT_FOUND",
    call: () => fetch(`${t.url}/api/v1/sensors/${randomUUID()}/pcap`, { headers: asViewer() }),
  },
  {
    name: "a pcap download's 400, naming the field",
    status: 400,
    code: "INVALID_INPUT",
    message: /^interface: /,
    call: () =>
      fetch(`${t.url}/api/v1/sensors/${randomUUID()}/pcap?interface=${"x".repeat(20)}`, {
        headers: asViewer(),
      }),
  },
  {
    name: "a pcap download's 401",
    status: 401,
    code: "UNAUTHENTICATED",
    call: () => fetch(`${t.url}/api/v1/sensors/${randomUUID()}/pcap`),
  },
  {
    name: "an action route's 403 (a viewer requesting a snapshot)",
    status: 403,
    code: "FORBIDDEN",
    message: /^This needs the operator role; you have viewer\.$/,
    call: () =>
      fetch(`${t.url}/api/v1/sensors/${randomUUID()}/snapshots`, {
        method: "POST",
        headers: { ...json, ...asViewer() },
        body: JSON.stringify({ durationSeconds: 5 }),
      }),
  },
  {
    name: "an action result download's 401 for a revoked-looking token",
    status: 401,
    code: "UNAUTHENTICATED",
    call: () =>
      fetch(`${t.url}/api/v1/sensors/${randomUUID()}/actions/${randomUUID()}/pcap`, {
        headers: { authorization: "Bearer not-a-token" },
      }),
  },
  {
    name: "an action result download's 404",
    status: 404,
    code: "NOT_FOUND",
    call: () =>
      fetch(`${t.url}/api/v1/sensors/${randomUUID()}/actions/${randomUUID()}/pcap`, { headers: asViewer() }),
  },
  {
    name: "a cross-site request's 403",
    status: 403,
    code: "FORBIDDEN",
    call: () =>
      fetch(`${t.url}/api/v1/users`, {
        method: "POST",
        headers: { ...json, cookie: admin, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
        body: "{}",
      }),
  },
];

describe("REST errors: one shape", () => {
  it.each(cases)("$name", async ({ status, code, call, message }) => {
    const response = await call();
    const body = (await response.json()) as unknown;
    expect(response.status).toBe(status);
    expect(APP_ERROR_CODES[code].http).toBe(status);
    const parsed = ZErrorResponseSchema.strict().safeParse(body);
    expect(parsed.error?.issues ?? []).toEqual([]);
    const error = parsed.data!.error;
    expect(
      Object.keys(error)
        .filter((key) => !["fieldErrors", "retryAfterSeconds"].includes(key))
        .sort(),
    ).toEqual(["code", "message", "requestId", "status"]);
    expect(error).toMatchObject({ status, code, requestId: response.headers.get("x-request-id") });
    if (message) expect(error.message).toMatch(message);
    // The document's Error schema accepts it too.
    const validate = new Ajv2020({ strict: false }).compile(openapi.components.schemas.Error!);
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
  });

  it("429 with the seconds to wait, in the same shape", async () => {
    const user = await t.userWithToken("viewer", "shape-limited");
    const cookie = await t.login(user.username, user.password);
    const statuses: number[] = [];
    let last: { status: number; body: unknown; headers: Headers } | undefined;
    for (let attempt = 0; attempt < 7; attempt++) {
      const response = await fetch(`${t.url}/api/v1/me/password`, {
        method: "POST",
        headers: { ...json, cookie },
        body: JSON.stringify({
          currentPassword: `wrong-${attempt}`,
          newPassword: "violet-harbor-lantern-42",
        }),
      });
      statuses.push(response.status);
      last = { status: response.status, body: await response.json(), headers: response.headers };
    }
    expect(statuses.at(-1)).toBe(429);
    const error = ZErrorResponseSchema.strict().parse(last!.body).error;
    expect(error).toMatchObject({ status: 429, code: "RATE_LIMITED" });
    expect(error.retryAfterSeconds).toBeGreaterThan(0);
    expect(last!.headers.get("retry-after")).toBe(String(error.retryAfterSeconds));
  });
});

describe("errors: a 4xx of the framework keeps its status and gets an honest code", () => {
  it("answers a tRPC query sent as a mutation (and the reverse) 405 METHOD_NOT_ALLOWED", async () => {
    for (const [method, path] of [
      ["GET", "users.create"],
      ["POST", "users.list"],
    ] as const) {
      const response = await fetch(`${t.url}/trpc/${path}`, {
        method,
        headers: { ...json, cookie: admin },
        ...(method === "POST" ? { body: "{}" } : {}),
      });
      const body = (await response.json()) as { error: { data: { appCode: string; httpStatus: number } } };
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(body.error.data).toMatchObject({ appCode: "METHOD_NOT_ALLOWED", httpStatus: 405 });
    }
    expect(APP_ERROR_CODES.METHOD_NOT_ALLOWED.http).toBe(405);
  });

  it.each([
    [405, "METHOD_NOT_ALLOWED"],
    [406, "REQUEST_REFUSED"],
    [408, "REQUEST_REFUSED"],
    [413, "PAYLOAD_TOO_LARGE"],
  ] as const)("answers an HTTP-stack %i with that status and %s, in either surface", (status, code) => {
    const raised = Object.assign(new Error(`refused with ${status}`), { statusCode: status });
    const expected = { status, code, message: `refused with ${status}` };
    // The REST surface (and the server's own routes), through the server's error handler…
    expect(answerForError(fromFastifyError(raised, { bodyLimit: 1024 }))).toMatchObject(expected);
    // …and tRPC's, where the server hands the error on as the cause.
    const wrapped = new TRPCError({ code: "BAD_REQUEST", message: raised.message, cause: raised });
    expect(answerForError(wrapped)).toMatchObject(expected);
  });

  it("keeps a procedure's unexpected failure a 500, even when its cause carries a 4xx status", () => {
    const upstream = Object.assign(new Error("upstream said 404"), { statusCode: 404 });
    const failed = new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "boom", cause: upstream });
    expect(answerForError(failed)).toEqual({
      status: 500,
      code: "INTERNAL",
      message: "Internal server error.",
    });
  });
});

describe("REST errors: the OpenAPI document declares the shape", () => {
  it("has an Error schema that every error response of every operation references", () => {
    expect(openapi.components.schemas.Error).toMatchObject({
      type: "object",
      required: ["error"],
    });
    const operations = Object.entries(openapi.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ name: `${method} ${path}`, operation })),
    );
    expect(operations.length).toBeGreaterThan(10);
    const wrong: string[] = [];
    for (const { name, operation } of operations) {
      const errors = Object.entries(operation.responses).filter(
        ([status]) => status === "default" || Number(status) >= 400,
      );
      if (!errors.some(([status]) => status === "default")) wrong.push(`${name}: no default error response`);
      for (const [status, response] of errors) {
        const schema = response.content?.["application/json"]?.schema;
        if (JSON.stringify(schema) !== JSON.stringify({ $ref: "#/components/schemas/Error" }))
          wrong.push(`${name} ${status}: ${JSON.stringify(schema)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
