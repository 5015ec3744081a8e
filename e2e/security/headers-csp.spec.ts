import { readdirSync } from "node:fs";
import path from "node:path";
import { expect, test, type Page, type Response } from "@playwright/test";
import { ADMIN, signIn } from "../support/fixtures.ts";

const APP_DIR = path.resolve(import.meta.dirname, "../../apps/web/src/app");

/** A URL to visit for each dynamic route (an id nobody has: the page's not-found state renders too). */
const SAMPLE_URLS: Record<string, string> = {
  "sensors/[id]": "/sensors/00000000-0000-4000-8000-000000000000",
  "clusters/[id]": "/clusters/no-such-cluster",
  "configuration/[id]": "/configuration/00000000-0000-4000-8000-000000000000",
  "rollouts/[id]": "/rollouts/00000000-0000-4000-8000-000000000000",
};

/** Every page of the dashboard, from the files that define them (route groups do not appear in URLs). */
function listPages(dir = APP_DIR, segments: string[] = []): string[] {
  const pages: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && /^page\.(tsx|ts|jsx|js)$/.test(entry.name)) {
      pages.push(`/${segments.join("/")}`);
    } else if (entry.isDirectory() && !entry.name.startsWith("_")) {
      const sample = SAMPLE_URLS[[...segments, entry.name].join("/")];
      if (sample) {
        pages.push(sample);
        continue;
      }
      if (entry.name.includes("[")) {
        throw new Error(`${path.join(dir, entry.name)}: a dynamic route needs a sample URL in this test`);
      }
      const inUrl = !(entry.name.startsWith("(") && entry.name.endsWith(")"));
      pages.push(...listPages(path.join(dir, entry.name), inUrl ? [...segments, entry.name] : segments));
    }
  }
  return pages.sort();
}

interface Violation {
  directive: string;
  blocked: string;
  sample: string;
}

/** Collects CSP violations as the page reports them: the DOM event and Chromium's console message. */
async function watchViolations(
  page: Page,
): Promise<{ console: string[]; events: () => Promise<Violation[]> }> {
  const consoleMessages: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to (execute|load|apply|connect|frame)/i.test(message.text())) {
      consoleMessages.push(`${page.url()}: ${message.text()}`);
    }
  });
  await page.addInitScript(() => {
    const store: unknown[] = [];
    (window as unknown as { __cspViolations: unknown[] }).__cspViolations = store;
    document.addEventListener("securitypolicyviolation", (event) => {
      store.push({ directive: event.violatedDirective, blocked: event.blockedURI, sample: event.sample });
    });
  });
  return {
    console: consoleMessages,
    events: () =>
      page.evaluate(() => (window as unknown as { __cspViolations: Violation[] }).__cspViolations),
  };
}

function expectPageHeaders(response: Response | null): string {
  expect(response, "the page answered").not.toBeNull();
  const headers = response!.headers();
  const csp = headers["content-security-policy"] ?? "";
  const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)' 'strict-dynamic'/.exec(csp)?.[1];
  expect(nonce, `a script nonce in ${csp}`).toBeDefined();
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("base-uri 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("no-referrer");
  expect(headers["x-frame-options"]).toBe("DENY");
  expect(headers["x-powered-by"]).toBeUndefined();
  // Plain HTTP here: no HSTS.
  expect(headers["strict-transport-security"]).toBeUndefined();
  return nonce!;
}

test("[security]: every dashboard page renders under its Content-Security-Policy without a violation", async ({
  page,
}) => {
  const pages = listPages();
  expect(pages).toContain("/login");
  expect(pages).toContain("/fleet");
  const violations = await watchViolations(page);
  const nonces = new Set<string>();

  // The login page, before signing in: it renders and its form works (hydrated).
  nonces.add(expectPageHeaders(await page.goto("/login")));
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  expect(await violations.events()).toEqual([]);
  await signIn(page, ADMIN);

  for (const url of pages.filter((p) => p !== "/login")) {
    const response = await page.goto(url);
    nonces.add(expectPageHeaders(response));
    // The shell renders nothing until the client has asked who is signed in, so a heading
    // proves that the scripts ran and the API answered.
    await expect(page.getByRole("heading", { level: 1 }), `${url} rendered`).toBeVisible();
    await expect(page).toHaveURL(new RegExp(`${url}$`));
    expect(await violations.events(), `CSP violations on ${url}`).toEqual([]);
  }
  expect(violations.console).toEqual([]);
  // A fresh nonce for every response.
  expect(nonces.size).toBe(pages.length);

  // The policy is really enforced, and the watch above would have seen a violation:
  // an injected inline handler does not run.
  await page.evaluate(() => {
    document.body.insertAdjacentHTML(
      "beforeend",
      `<img alt="" src="/missing.png" onerror="document.body.dataset.injected = 'ran'">`,
    );
  });
  await expect
    .poll(async () => (await violations.events()).map((v) => v.directive))
    .toContain("script-src-attr");
  expect(await page.evaluate(() => document.body.dataset.injected)).toBeUndefined();
});

test("[security]: a page of the same site cannot sign the user out with a form post", async ({ page }) => {
  await signIn(page, ADMIN);
  const target = new URL("/trpc/auth.logout", page.url()).toString();
  // Same site, other origin: another port on the same host. The session cookie (SameSite=Lax)
  // goes along with the post, so only the server's own check stands in the way.
  const attacker = new URL(page.url());
  attacker.port = String(Number(attacker.port) === 65535 ? 65534 : Number(attacker.port) + 1);
  attacker.pathname = "/attack";
  await page.route(attacker.toString(), (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<form method="post" enctype="multipart/form-data" action="${target}"><input name="x" value="1"></form>
             <script>document.forms[0].submit()</script>`,
    }),
  );
  const refused = page.waitForResponse((response) => response.url() === target);
  await page.goto(attacker.toString());
  const response = await refused;
  expect([403, 415]).toContain(response.status());
  expect((await response.request().allHeaders()).cookie).toContain("tapfleet_session=");

  // Still signed in.
  await page.goto("/fleet");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page).toHaveURL(/\/fleet$/);
});
