import { expect, test } from "@playwright/test";
import { ADMIN, signIn } from "../support/fixtures.ts";

test("[settings]: create a user and a token, call the API with the token, and find both in the audit log", async ({
  page,
  request,
}) => {
  await signIn(page, ADMIN);

  // A user, through the form.
  await page.goto("/settings/users");
  await page.getByRole("button", { name: "New user" }).click();
  const userDialog = page.getByRole("dialog");
  await userDialog.getByLabel("Username").fill("e2e-operator");
  await userDialog.getByLabel("Display name").fill("E2E Operator");
  await userDialog.getByLabel("Role", { exact: true }).click();
  await page.getByRole("option", { name: /operator/i }).click();
  await userDialog.getByLabel("Password").fill("operator-password-1");
  await userDialog.getByRole("button", { name: "Create user" }).click();
  await expect(userDialog).toBeHidden();
  await expect(page.getByRole("table").getByText("e2e-operator")).toBeVisible();

  // A token, shown once.
  await page.goto("/settings/tokens");
  await page.getByRole("button", { name: "New token" }).click();
  const tokenDialog = page.getByRole("dialog");
  await tokenDialog.getByLabel("Name").fill("e2e-ci-token");
  await tokenDialog.getByRole("button", { name: "Create token" }).click();
  const secretField = tokenDialog.getByLabel("Token secret");
  await expect(secretField).toHaveValue(/^tfk_[A-Za-z0-9_-]{43}$/);
  const secret = await secretField.inputValue();

  // The API answers to the token, on REST and tRPC alike.
  const me = await request.get("/api/v1/me", { headers: { authorization: `Bearer ${secret}` } });
  expect(me.status()).toBe(200);
  expect(await me.json()).toMatchObject({ token: { name: "e2e-ci-token" } });
  const refused = await request.get("/api/v1/me", {
    headers: { authorization: `Bearer ${secret.slice(0, -1)}x` },
  });
  expect(refused.status()).toBe(401);

  // Both actions are in the audit log, newest first.
  await page.goto("/settings/audit");
  const table = page.getByRole("table", { name: "Audit events" });
  await expect(
    table.getByRole("row").filter({ hasText: "users.create" }).filter({ hasText: "e2e-operator" }),
  ).toBeVisible();
  await expect(
    table.getByRole("row").filter({ hasText: "tokens.create" }).filter({ hasText: "e2e-ci-token" }),
  ).toBeVisible();
});
