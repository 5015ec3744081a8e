import { expect, test } from "@playwright/test";
import { ADMIN, signIn } from "../support/fixtures.ts";

test("[auth]: a visitor is sent to the login page, and a wrong password is refused with a clear message", async ({
  page,
}) => {
  await page.goto("/settings/users");
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill("definitely-not-it");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Wrong user name or password.")).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
});

test("[auth]: the admin signs in, sees the navigation, and signs out", async ({ page }) => {
  await signIn(page, ADMIN);
  const navigation = page.getByRole("navigation");
  for (const item of [
    "Fleet",
    "Clusters",
    "Nodes",
    "Sensors",
    "Configuration",
    "Rollouts",
    "Settings",
    "Users",
    "API tokens",
    "Audit log",
  ]) {
    await expect(navigation.getByText(item, { exact: true }).first()).toBeVisible();
  }
  // Pages whose feature does not exist yet are not offered.
  for (const item of ["Alerts"]) {
    await expect(navigation.getByText(item, { exact: true })).toHaveCount(0);
  }
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "tapfleet_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Lax");
  await page.getByRole("button", { name: /sign out/i }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/settings/tokens");
  await expect(page).toHaveURL(/\/login/);
});

test("[auth]: a refusal about a field is a sentence under that field, not a second alert", async ({
  page,
}) => {
  await page.goto("/login");
  // Longer than the API accepts: the server names the field and says what is wrong.
  await page.getByLabel("Username").fill("a".repeat(65));
  await page.getByLabel("Password").fill("whatever-it-is");
  await page.getByRole("button", { name: "Sign in" }).click();
  const username = page.getByLabel("Username");
  await expect(username).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText("Must be at most 64 characters.", { exact: true })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: /characters/ })).toHaveCount(0);
  await expect(page).toHaveURL(/\/login/);
});

test("[auth]: addresses of pages that do not exist end on a page that leads back to the fleet", async ({
  page,
}) => {
  await signIn(page, ADMIN);
  for (const address of ["/alerts"]) {
    const response = await page.goto(address);
    expect(response?.status(), address).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  }
  await page.getByRole("link", { name: "Go to Fleet" }).click();
  await expect(page).toHaveURL(/\/fleet$/);
});
