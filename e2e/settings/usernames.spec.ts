import { expect, test } from "@playwright/test";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

test("[settings]: usernames follow one rule in the form and the API — capitals are accepted and saved in lower case, other characters refused in the same words", async ({
  page,
  request,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/settings/users");
  await page.getByRole("button", { name: "New user" }).click();
  const dialog = page.getByRole("dialog", { name: "New user" });

  // Refused by the form, in the words the server uses for the same input.
  const cookie = await apiSignIn(request, ADMIN);
  const refused = await request.post("/api/v1/users", {
    headers: { cookie, "content-type": "application/json" },
    data: { username: "bob smith", password: "violet-harbor-lantern-42", role: "viewer" },
  });
  expect(refused.status()).toBe(400);
  const serverSays = JSON.stringify(await refused.json());
  expect(serverSays).toContain("may contain only letters, digits, '.', '_' and '-'");
  await dialog.getByLabel("Username").fill("bob smith");
  await dialog.getByLabel("Password").fill("violet-harbor-lantern-42");
  await dialog.getByRole("button", { name: "Create user" }).click();
  await expect(dialog.getByText("Username may contain only letters, digits, '.', '_' and '-'")).toBeVisible();

  // Capitals are accepted; the form says how the name will be saved, and it is saved so.
  await dialog.getByLabel("Username").fill("E2E.Mixed-Case");
  await expect(
    dialog.getByText("Usernames are not case-sensitive: this one is saved as “e2e.mixed-case”."),
  ).toBeVisible();
  await dialog.getByRole("button", { name: "Create user" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("table").getByText("e2e.mixed-case", { exact: true })).toBeVisible();

  // One account whatever the case: signing in with other capitals works, a second one is a conflict.
  await apiSignIn(request, { username: "E2E.MIXED-CASE", password: "violet-harbor-lantern-42" });
  await page.getByRole("button", { name: "New user" }).click();
  await dialog.getByLabel("Username").fill("e2e.MIXED-case");
  await dialog.getByLabel("Password").fill("violet-harbor-lantern-42");
  await dialog.getByRole("button", { name: "Create user" }).click();
  await expect(dialog.getByText('A user named "e2e.mixed-case" already exists.')).toBeVisible();
});
