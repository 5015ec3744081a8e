import { expect, test } from "@playwright/test";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

const OPERATOR = { username: "remove-operator", password: "operator-password-for-remove" };

test.use({ viewport: { width: 1440, height: 900 } });
// The operator looks first; the admin then removes the cluster.
test.describe.configure({ mode: "serial" });

let adminCookie: string;

test.beforeAll(async ({ request }) => {
  adminCookie = await apiSignIn(request, ADMIN);
  const headers = { cookie: adminCookie, "content-type": "application/json" };
  const created = await request.post("/api/v1/clusters", {
    headers,
    data: { id: "e2e-remove", displayName: "Staging West" },
  });
  expect(created.status(), await created.text()).toBe(200);
  const user = await request.post("/trpc/users.create", {
    headers,
    data: { ...OPERATOR, role: "operator" },
  });
  expect(user.status(), await user.text()).toBe(200);
});

test("[clusters]: an operator sees why the cluster cannot be removed", async ({ page }) => {
  await signIn(page, OPERATOR);
  await page.goto("/clusters/e2e-remove");
  await expect(page.getByRole("heading", { name: "Staging West" })).toBeVisible();
  const remove = page.getByRole("button", { name: "Remove cluster" });
  await expect(remove).toBeDisabled();
  await remove.locator("xpath=..").hover();
  await expect(page.getByRole("tooltip")).toHaveText(
    "Removing a cluster needs the admin role; you have operator.",
  );
});

test("[clusters]: an admin removes a cluster from its page after typing its id, and lands on the clusters list", async ({
  page,
  request,
}) => {
  await signIn(page, ADMIN);
  await page.goto("/clusters/e2e-remove");
  await expect(page.getByRole("heading", { name: "Staging West" })).toBeVisible();
  await page.getByRole("button", { name: "Remove cluster" }).click();

  const dialog = page.getByRole("dialog", { name: "Remove cluster Staging West (e2e-remove)?" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("agents still running there are refused from then on (401 unknown_key)");
  await expect(dialog).toContainText("keeps the audit log and the history of past rollouts");
  await expect(dialog).toContainText("deletes nothing in the Kubernetes cluster itself");
  const confirm = dialog.getByRole("button", { name: "Remove cluster" });
  const typed = dialog.getByRole("textbox", { name: "Type the cluster id “e2e-remove” to confirm" });
  await expect(confirm).toBeDisabled();
  await typed.fill("e2e-remov");
  await expect(confirm).toBeDisabled();
  await typed.fill("e2e-remove");
  await expect(confirm).toBeEnabled();
  await page.screenshot({ path: test.info().outputPath("remove-cluster-confirm.png") });

  await confirm.click();
  await expect(page).toHaveURL(/\/clusters$/);
  await expect(page.getByText("Cluster removed")).toBeVisible();
  await expect(page.getByText(/“e2e-remove” is gone with 0 stored reports/)).toBeVisible();
  await expect(page.getByRole("heading", { name: "Clusters" })).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: "e2e-remove" })).toHaveCount(0);
  await page.screenshot({ path: test.info().outputPath("removed.png") });

  const gone = await request.get("/api/v1/clusters/e2e-remove", { headers: { cookie: adminCookie } });
  expect(gone.status()).toBe(404);
});
