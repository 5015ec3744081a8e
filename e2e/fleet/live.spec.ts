import { expect, test } from "@playwright/test";
import { ADMIN, signIn } from "../support/fixtures.ts";

test("[fleet]: the Fleet page says its live connection is up", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.goto("/fleet");
  await expect(page.getByRole("heading", { name: "Fleet" })).toBeVisible();
  await expect(page.getByText("Live updates connected")).toBeVisible();
});
