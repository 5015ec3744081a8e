import { expect, test } from "@playwright/test";
import { ADMIN, apiSignIn, callProcedure, readProcedures, type ProcedureInfo } from "../support/fixtures.ts";

const RANK = { viewer: 1, operator: 2, admin: 3 } as const;
type Role = keyof typeof RANK;

test("[api]: every procedure refuses callers below its role (401 without credentials, 403 for a smaller role) and changes nothing", async ({
  request,
  playwright,
  baseURL,
}) => {
  const procedures = readProcedures();
  expect(procedures.length).toBeGreaterThan(10);
  const adminCookie = await apiSignIn(request, ADMIN);
  const headersAdmin = { cookie: adminCookie };

  // A token for each role below admin, made the way a user makes one.
  const tokens: Partial<Record<Role, string>> = {};
  for (const role of ["viewer", "operator"] as const) {
    const username = `roles-${role}`;
    const password = `${role}-password-for-roles`;
    const created = await request.post("/trpc/users.create", {
      headers: { ...headersAdmin, "content-type": "application/json" },
      data: { username, role, password },
    });
    expect(created.status(), await created.text()).toBe(200);
    const cookie = await apiSignIn(request, { username, password });
    const token = await request.post("/trpc/tokens.create", {
      headers: { cookie, "content-type": "application/json" },
      data: { name: `${role}-token`, role },
    });
    tokens[role] = ((await token.json()) as { result: { data: { secret: string } } }).result.data.secret;
  }
  const snapshot = async () => {
    const users = (await (await request.get("/api/v1/users", { headers: headersAdmin })).json()) as {
      items: unknown[];
    };
    const all = (await (await request.get("/api/v1/tokens", { headers: headersAdmin })).json()) as {
      items: { lastUsedAt: string | null }[];
    };
    // lastUsedAt records that a token authenticated, which the refused calls
    // did; everything else must be exactly as before.
    return JSON.stringify([users.items, all.items.map(({ lastUsedAt: _used, ...rest }) => rest)]);
  };
  const before = await snapshot();

  const rows: { procedure: ProcedureInfo; caller: string; expected: number }[] = [];
  for (const procedure of procedures) {
    if (!procedure.role) continue;
    rows.push({ procedure, caller: "nobody", expected: 401 });
    for (const role of ["viewer", "operator"] as const) {
      if (RANK[role] < RANK[procedure.role]) rows.push({ procedure, caller: role, expected: 403 });
    }
  }
  expect(rows.some((r) => r.expected === 403)).toBe(true);

  // A context of its own, with no cookies: the callers carry only what the row says.
  const bare = await playwright.request.newContext({ baseURL });
  const wrong: string[] = [];
  for (const row of rows) {
    const headers: Record<string, string> =
      row.caller === "nobody" ? {} : { authorization: `Bearer ${tokens[row.caller as Role]}` };
    const status = await callProcedure(bare, row.procedure, headers);
    if (status !== row.expected)
      wrong.push(`${row.procedure.path} as ${row.caller}: ${status}, expected ${row.expected}`);
  }
  await bare.dispose();
  expect(wrong).toEqual([]);
  expect(await snapshot()).toBe(before);
});

test("[api]: a demoted user's token loses the role at once, a weaker token cannot revoke a stronger one, and sign-ins are never batched", async ({
  request,
  playwright,
  baseURL,
}) => {
  const adminCookie = await apiSignIn(request, ADMIN);
  const json = { "content-type": "application/json" };
  const user = { username: "roles-demoted", password: "demoted-password-for-roles" };
  const created = await request.post("/trpc/users.create", {
    headers: { cookie: adminCookie, ...json },
    data: { ...user, role: "admin" },
  });
  expect(created.status(), await created.text()).toBe(200);
  const userId = ((await created.json()) as { result: { data: { id: string } } }).result.data.id;
  const cookie = await apiSignIn(request, user);
  const makeToken = async (role: Role) => {
    const response = await request.post("/trpc/tokens.create", {
      headers: { cookie, ...json },
      data: { name: `demoted-${role}`, role },
    });
    expect(response.status(), await response.text()).toBe(200);
    return ((await response.json()) as { result: { data: { token: { id: string }; secret: string } } }).result
      .data;
  };
  const adminToken = await makeToken("admin");
  const viewerToken = await makeToken("viewer");

  const bare = await playwright.request.newContext({ baseURL });
  const asAdminToken = { authorization: `Bearer ${adminToken.secret}` };
  expect((await bare.get("/api/v1/users", { headers: asAdminToken })).status()).toBe(200);

  // A viewer token may not revoke its owner's admin token.
  const revoke = await bare.post(`/api/v1/tokens/${adminToken.token.id}/revoke`, {
    headers: { authorization: `Bearer ${viewerToken.secret}`, ...json },
    data: {},
  });
  expect(revoke.status()).toBe(403);

  const demoted = await request.patch(`/api/v1/users/${userId}`, {
    headers: { cookie: adminCookie, ...json },
    data: { role: "viewer" },
  });
  expect(demoted.status(), await demoted.text()).toBe(200);
  expect((await bare.get("/api/v1/users", { headers: asAdminToken })).status()).toBe(403);
  const me = (await (await bare.get("/api/v1/me", { headers: asAdminToken })).json()) as {
    token: { role: string };
  };
  expect(me.token.role).toBe("viewer");

  const batch = await bare.post("/trpc/auth.login,auth.login?batch=1", {
    headers: json,
    data: { "0": user, "1": user },
  });
  expect(batch.status()).toBe(400);
  expect(await batch.text()).toContain("auth.login cannot be sent in a tRPC batch");
  await bare.dispose();
});
