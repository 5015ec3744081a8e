import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, type APIRequestContext, type Page } from "@playwright/test";

export const ADMIN = { username: "admin", password: "e2e-admin-password" };

export interface ProcedureInfo {
  path: string;
  type: "query" | "mutation" | "subscription";
  role: "viewer" | "operator" | "admin" | null;
}

export function readProcedures(): ProcedureInfo[] {
  const state = process.env.TAPFLEET_E2E_STATE;
  if (!state) throw new Error("TAPFLEET_E2E_STATE is not set");
  return JSON.parse(readFileSync(path.join(state, "procedures.json"), "utf8")) as ProcedureInfo[];
}

export async function signIn(page: Page, user = ADMIN): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

/** Calls a tRPC procedure over HTTP the way any client would. */
export async function callProcedure(
  request: APIRequestContext,
  procedure: ProcedureInfo,
  headers: Record<string, string>,
): Promise<number> {
  const url = `/trpc/${procedure.path}`;
  if (procedure.type === "mutation") {
    return (
      await request.post(url, { headers: { ...headers, "content-type": "application/json" }, data: {} })
    ).status();
  }
  if (procedure.type === "subscription") {
    return (
      await request.get(url, { headers: { ...headers, accept: "text/event-stream" }, timeout: 10_000 })
    ).status();
  }
  return (await request.get(url, { headers })).status();
}

/** Signs in through the API and returns the session cookie header. */
export async function apiSignIn(
  request: APIRequestContext,
  user: { username: string; password: string },
): Promise<string> {
  const response = await request.post("/trpc/auth.login", {
    data: user,
    headers: { "content-type": "application/json" },
  });
  expect(response.status(), await response.text()).toBe(200);
  const cookie = response
    .headersArray()
    .find((h) => h.name.toLowerCase() === "set-cookie" && h.value.startsWith("tapfleet_session="));
  if (!cookie) throw new Error("no session cookie");
  return cookie.value.split(";")[0]!;
}
