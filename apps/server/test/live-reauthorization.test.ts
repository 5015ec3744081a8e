// A live stream (SSE subscription) checks its caller's rights again while it
// is open: a demoted or disabled owner, or a revoked token, ends it with the
// refusal within the re-check interval.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, startTestServer, type TestServer } from "./harness.ts";

const RECHECK_MS = 300;
let t: TestServer;
let admin: string;
beforeAll(async () => {
  t = await startTestServer({ TAPFLEET_LIVE_RECHECK_MS: String(RECHECK_MS) });
  admin = await t.login("admin", ADMIN_PASSWORD);
});
afterAll(async () => {
  await t?.stop();
});

/** Opens a subscription; `ended` resolves with everything it sent once the server ends it. */
async function openStream(path: string, headers: Record<string, string>) {
  const controller = new AbortController();
  const response = await fetch(`${t.url}/trpc/${path}`, {
    headers: { ...headers, accept: "text/event-stream" },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const ended = (async () => {
    const decoder = new TextDecoder();
    let text = "";
    const reader = response.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    return { text, at: Date.now() };
  })();
  return { ended, close: () => controller.abort() };
}

function refusalIn(text: string): { message: string; data: { appCode: string; httpStatus: number } } {
  const match = /event: serialized-error\ndata: (.*)\n/.exec(text);
  if (!match) throw new Error(`the stream ended without an error event:\n${text}`);
  return JSON.parse(match[1]!) as { message: string; data: { appCode: string; httpStatus: number } };
}

async function patchUser(id: string, body: unknown) {
  const response = await fetch(`${t.url}/api/v1/users/${id}`, {
    method: "PATCH",
    headers: { "content-type": "application/json", cookie: admin },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.text()).toBe(200);
}

describe("live streams re-check authorization", () => {
  it("ends a token's stream with 403 once its owner is demoted below the stream's role", async () => {
    const owner = await t.userWithToken("admin", "live-demoted");
    const stream = await openStream("audit.live", { authorization: `Bearer ${owner.token}` });
    // Still allowed after several re-checks: the stream is open and quiet.
    const early = await Promise.race([
      stream.ended.then(() => "ended"),
      new Promise((resolve) => setTimeout(() => resolve("open"), RECHECK_MS * 3)),
    ]);
    expect(early).toBe("open");

    const demotedAt = Date.now();
    await patchUser(owner.userId, { role: "operator" });
    const { text, at } = await stream.ended;
    expect(at - demotedAt).toBeLessThan(RECHECK_MS * 2 + 1000);
    const refusal = refusalIn(text);
    expect(refusal.data).toMatchObject({ appCode: "FORBIDDEN", httpStatus: 403 });
    expect(refusal.message).toBe("This needs the admin role; you have operator.");
  });

  it("ends a signed-in user's stream with 401 once the user is disabled", async () => {
    const user = await t.userWithToken("viewer", "live-disabled");
    const cookie = await t.login(user.username, user.password);
    const stream = await openStream("sensors.live", { cookie });
    const disabledAt = Date.now();
    await patchUser(user.userId, { disabled: true });
    const { text, at } = await stream.ended;
    expect(at - disabledAt).toBeLessThan(RECHECK_MS * 2 + 1000);
    expect(refusalIn(text).data).toMatchObject({ appCode: "UNAUTHENTICATED", httpStatus: 401 });
  });

  it("ends a stream with 401 once its token is revoked", async () => {
    const owner = await t.userWithToken("viewer", "live-revoked");
    const tokenId = (await t.db.apiToken.findFirstOrThrow({ where: { createdById: owner.userId } })).id;
    const stream = await openStream("sensors.live", { authorization: `Bearer ${owner.token}` });
    const revoke = await fetch(`${t.url}/api/v1/tokens/${tokenId}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: admin },
      body: "{}",
    });
    expect(revoke.status).toBe(200);
    const refusal = refusalIn((await stream.ended).text);
    expect(refusal.data).toMatchObject({ appCode: "UNAUTHENTICATED", httpStatus: 401 });
    expect(refusal.message).toBe("This API token has been revoked.");
  });
});
