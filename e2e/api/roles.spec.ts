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
