import { expect, test, type APIRequestContext } from "@playwright/test";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

async function createUser(
  request: APIRequestContext,
  user: { username: string; password: string; role: "viewer" | "operator" | "admin" },
): Promise<string> {
  const cookie = await apiSignIn(request, ADMIN);
  const created = await request.post("/api/v1/users", {
    headers: { cookie, "content-type": "application/json" },
    data: user,
  });
  expect(created.status(), await created.text()).toBe(200);
  return cookie;
}

async function roleOf(request: APIRequestContext, cookie: string, username: string): Promise<string> {
  const users = (await (await request.get("/api/v1/users", { headers: { cookie } })).json()) as {
    items: { username: string; role: string }[];
  };
  return users.items.find((user) => user.username === username)?.role ?? "missing";
}

test("[settings]: a role change asks first and confirms it happened; disabled controls say why; the audit log shows what changed", async ({
  page,
  request,
}) => {
  const adminCookie = await createUser(request, {
    username: "e2e-role-target",
    password: "e2e-role-target-password",
    role: "viewer",
  });
  await signIn(page, ADMIN);
  await page.goto("/settings/users");

  // Your own row: the controls you may not use say why.
  const selfRow = page.getByRole("row").filter({ hasText: "(you)" });
  await expect(selfRow.getByRole("button", { name: "Delete" })).toBeDisabled();
  await selfRow.getByRole("button", { name: "Delete" }).locator("..").hover();
  await expect(
    page.getByRole("tooltip").filter({ hasText: "You cannot delete your own account" }),
  ).toBeVisible();
  await selfRow.getByRole("combobox", { name: "Role of admin" }).locator("..").hover();
  await expect(
    page.getByRole("tooltip").filter({ hasText: "You cannot change your own role; another admin can" }),
  ).toBeVisible();

  // Choosing a role asks first; cancelling changes nothing.
  const targetRow = page.getByRole("row").filter({ hasText: "e2e-role-target" });
  await targetRow.getByRole("combobox", { name: "Role of e2e-role-target" }).click();
  await page.getByRole("option", { name: "Operator" }).click();
  const dialog = page.getByRole("dialog", { name: "Change the role of e2e-role-target?" });
  await expect(dialog).toContainText("goes from Viewer to Operator");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  expect(await roleOf(request, adminCookie, "e2e-role-target")).toBe("viewer");
  await expect(targetRow.getByRole("combobox", { name: "Role of e2e-role-target" })).toHaveValue("Viewer");

  // Confirming changes it, and a notification says so.
  await targetRow.getByRole("combobox", { name: "Role of e2e-role-target" }).click();
  await page.getByRole("option", { name: "Operator" }).click();
  await dialog.getByRole("button", { name: "Make Operator" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("alert").filter({ hasText: "Role changed" })).toContainText(
    "e2e-role-target is now Operator.",
  );
  expect(await roleOf(request, adminCookie, "e2e-role-target")).toBe("operator");

  // The audit log names the user and shows the change; the filter offers recorded actions.
  await page.goto("/settings/audit");
  await page.getByRole("combobox", { name: "Action" }).click();
  await page.getByRole("option", { name: "users.update", exact: true }).click();
  const table = page.getByRole("table", { name: "Audit events" });
  await expect(table.getByRole("row", { name: /^users\.create by/ })).toHaveCount(0);
  const row = table
    .getByRole("row", { name: "users.update by admin" })
    .filter({ hasText: "e2e-role-target" });
  await expect(row).toContainText("role: viewer → operator");
  await row.click();
  const detail = page.getByRole("dialog", { name: "users.update" });
  await expect(detail).toContainText("e2e-role-target");
  await expect(detail).toContainText('"role": "operator"');
});

test("[settings]: changing my password refuses a wrong current one and a common new one at the field, then keeps this session and signs out the other", async ({
  page,
  request,
}) => {
  const user = { username: "e2e-self", password: "e2e-self-first-password", role: "viewer" as const };
  await createUser(request, user);
  const otherSession = await apiSignIn(request, user);
  await signIn(page, user);

  // The account page is one click away, from the name in the header.
  await page.getByTestId("current-user").click();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  const form = page.getByRole("form", { name: "Change password" });
  const submit = form.getByRole("button", { name: "Change password" });

  await form.getByLabel("Current password").fill("not-my-password-at-all");
  await form.getByLabel(/^New password\s*\*?$/).fill("violet-harbor-lantern-42");
  await form.getByLabel("New password again").fill("violet-harbor-lantern-42");
  await submit.click();
  await expect(form.getByText("This is not your current password")).toBeVisible();

  await form.getByLabel("Current password").fill(user.password);
  await form.getByLabel(/^New password\s*\*?$/).fill("aaaaaaaaaaaa");
  await form.getByLabel("New password again").fill("aaaaaaaaaaaa");
  await submit.click();
  await expect(
    form.getByText(/^Password is too easy to guess: Repeated characters like "aaa"/),
  ).toBeVisible();

  await form.getByLabel(/^New password\s*\*?$/).fill("violet-harbor-lantern-42");
  await form.getByLabel("New password again").fill("violet-harbor-lantern-42");
  await submit.click();
  await expect(page.getByRole("alert").filter({ hasText: "Password changed" })).toContainText(
    "Your other session was signed out. You stay signed in here.",
  );

  // This browser stays signed in; the other session is over; the new password works.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  const refused = await request.get("/trpc/tokens.list", { headers: { cookie: otherSession } });
  expect(refused.status()).toBe(401);
  await apiSignIn(request, { username: user.username, password: "violet-harbor-lantern-42" });
});
