import { expect, test } from "@playwright/test";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

test("[settings]: the audit log shows new events live on its first page, within its filters, and says its live connection is up", async ({
  page,
  request,
}) => {
  // The action filter offers only actions already recorded: record one users.create before the
  // page loads, instead of counting on another spec to have created a user.
  const cookie = await apiSignIn(request, ADMIN);
  const earlier = await request.post("/api/v1/users", {
    headers: { cookie, "content-type": "application/json" },
    data: { username: "e2e-audit-filter-seed", password: "amber-meadow-compass-17", role: "viewer" },
  });
  expect(earlier.status(), await earlier.text()).toBe(200);

  await signIn(page, ADMIN);
  await page.goto("/settings/audit");
  const table = page.getByRole("table", { name: "Audit events" });
  await expect(table).toBeVisible();
  await expect(page.getByText("Live updates connected")).toBeVisible();

  // Filter on one action; an event of another action must stay out, one of this action comes in.
  await page.getByRole("combobox", { name: "Action" }).click();
  await page.getByRole("option", { name: "users.create", exact: true }).click();
  await expect(table.getByRole("row", { name: /^auth\.login by/ })).toHaveCount(0);
  await expect(page.getByText("Live updates connected")).toBeVisible();
  await expect(table.getByRole("row").filter({ hasText: "e2e-audit-filter-seed" })).toBeVisible();
  await expect(table.getByRole("row").filter({ hasText: "e2e-live-audit" })).toHaveCount(0);

  const created = await request.post("/api/v1/users", {
    headers: { cookie, "content-type": "application/json" },
    data: { username: "e2e-live-audit", password: "violet-harbor-lantern-42", role: "viewer" },
  });
  expect(created.status(), await created.text()).toBe(200);

  // No reload: the stream brings it.
  await expect(
    table.getByRole("row", { name: /^users\.create by admin/ }).filter({ hasText: "e2e-live-audit" }),
  ).toBeVisible();
  // The API sign-in is an event too, but not one this filter shows.
  await expect(table.getByRole("row", { name: /^auth\.login by/ })).toHaveCount(0);
});
