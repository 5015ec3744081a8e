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
  for (const item of ["Fleet", "Clusters", "Sensors", "Configuration", "Rollouts", "Alerts", "Settings"]) {
    await expect(page.getByRole("navigation").getByText(item, { exact: true }).first()).toBeVisible();
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
