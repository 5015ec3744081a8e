// Every capability is reachable from CI as a REST route in the OpenAPI
// document, and tokens can be made over it (no more than the caller's role).
import { listProcedures } from "@tapfleet/api/procedures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_PASSWORD, startTestServer, type TestServer } from "./harness.ts";

/** Procedures with no REST route on purpose, and why. */
const BROWSER_ONLY: Record<string, string> = {
  "auth.login": "signs a person in by setting the session cookie; CI sends an API token instead",
  "auth.logout": "ends the session behind the cookie; a token is revoked with POST /tokens/{id}/revoke",
};

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.stop();
});

describe("REST coverage", () => {
  it("gives every query and mutation a route in the OpenAPI document, but the browser-only ones", async () => {
    const document = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    const routed = new Set(
      Object.values(document.paths).flatMap((methods) => Object.values(methods).map((op) => op.operationId)),
    );
    const callable = listProcedures().filter((p) => p.type !== "subscription");
    const missing = callable
      .filter((p) => !BROWSER_ONLY[p.path] && !routed.has(p.path.replace(/\./g, "-")))
      .map((p) => p.path);
    expect(missing).toEqual([]);
    // The exceptions are real procedures, and really have no route.
    for (const path of Object.keys(BROWSER_ONLY)) {
      expect(callable.map((p) => p.path)).toContain(path);
      expect(routed.has(path.replace(/\./g, "-"))).toBe(false);
    }
  });
});

describe("REST coverage: the pcap downloads", () => {
  type Operation = {
    operationId: string;
    security?: unknown[];
    parameters?: { name: string; in: string; required?: boolean; schema: { pattern?: string } }[];
    responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  };
  let paths: Record<string, Record<string, Operation>>;
  beforeAll(async () => {
    paths = ((await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as { paths: typeof paths }).paths;
  });

  it.each([
    ["/sensors/{id}/pcap", "sensors-downloadPcap", ["path id", "query interface"]],
    ["/sensors/{id}/actions/{actionId}/pcap", "sensors-downloadSnapshotPcap", ["path id", "path actionId"]],
  ])(
    "documents GET %s with its parameters, a pcap 200 and the shared errors",
    (path, operationId, params) => {
      const operation = paths[path]?.get;
      expect(operation?.operationId).toBe(operationId);
      expect(operation?.security).toEqual([{ bearer: [] }]);
      expect(operation?.parameters?.map((p) => `${p.in} ${p.name}`).sort()).toEqual([...params].sort());
      for (const parameter of operation!.parameters!)
        expect(parameter.required ?? false).toBe(parameter.in === "path");
      expect(Object.keys(operation!.responses["200"]!.content!)).toEqual(["application/vnd.tcpdump.pcap"]);
      for (const status of ["400", "401", "403", "404", "default"])
        expect(operation!.responses[status]?.content?.["application/json"]?.schema).toEqual({
          $ref: "#/components/schemas/Error",
        });
    },
  );

  it("refuses what the documented parameter patterns refuse, naming the field", async () => {
    const viewer = await t.userWithToken("viewer", "rest-pcap-viewer");
    const pattern = new RegExp(
      paths["/sensors/{id}/pcap"]!.get!.parameters!.find((p) => p.name === "interface")!.schema.pattern!,
    );
    const badInterface = "eth0/1";
    expect(pattern.test(badInterface)).toBe(false);
    const refused = await fetch(
      `${t.url}/api/v1/sensors/${crypto.randomUUID()}/pcap?interface=${encodeURIComponent(badInterface)}`,
      { headers: { authorization: `Bearer ${viewer.token}` } },
    );
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { fieldErrors: unknown } }).error.fieldErrors).toEqual({
      interface: ["must be an interface name (1–15 characters)"],
    });
    const badAction = await fetch(`${t.url}/api/v1/sensors/${crypto.randomUUID()}/actions/nope/pcap`, {
      headers: { authorization: `Bearer ${viewer.token}` },
    });
    expect(badAction.status).toBe(400);
    expect(((await badAction.json()) as { error: { message: string } }).error.message).toBe(
      "actionId: must be an action id (UUID)",
    );
  });
});

describe("POST /api/v1/tokens", () => {
  const create = (auth: Record<string, string>, body: unknown) =>
    fetch(`${t.url}/api/v1/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: JSON.stringify(body),
    });

  it("lets a token create a token for its owner, of at most its own effective role", async () => {
    const owner = await t.userWithToken("operator", "rest-token-owner");
    const asToken = { authorization: `Bearer ${owner.token}` };

    const made = await create(asToken, { name: "ci-short-lived", role: "viewer" });
    expect(made.status, await made.clone().text()).toBe(200);
    const { token, secret } = (await made.json()) as {
      token: { id: string; role: string; effectiveRole: string; createdBy: { username: string } };
      secret: string;
    };
    expect(token).toMatchObject({
      role: "viewer",
      effectiveRole: "viewer",
      createdBy: { username: owner.username },
    });
    expect(
      (await fetch(`${t.url}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } })).status,
    ).toBe(200);

    const before = await t.db.apiToken.count();
    const above = await create(asToken, { name: "ci-admin", role: "admin" });
    expect(above.status).toBe(403);
    expect(((await above.json()) as { error: { message: string } }).error.message).toBe(
      "An operator token cannot create a token with the admin role.",
    );
    expect(await t.db.apiToken.count()).toBe(before);
  });

  it("judges by the token's effective role: a demoted owner's operator token cannot make an operator token", async () => {
    const owner = await t.userWithToken("operator", "rest-token-demoted");
    await t.db.user.update({ where: { id: owner.userId }, data: { role: "viewer" } });
    const refused = await create({ authorization: `Bearer ${owner.token}` }, { name: "x", role: "operator" });
    expect(refused.status).toBe(403);
  });

  it("lists each token's created role and its effective role, capped by the owner's current role", async () => {
    const admin = await t.login("admin", ADMIN_PASSWORD);
    const owner = await t.userWithToken("admin", "rest-token-capped");
    await t.db.user.update({ where: { id: owner.userId }, data: { role: "viewer" } });
    const listed = (await (await fetch(`${t.url}/api/v1/tokens`, { headers: { cookie: admin } })).json()) as {
      items: { name: string; role: string; effectiveRole: string }[];
    };
    expect(listed.items.find((item) => item.name === "rest-token-capped-token")).toMatchObject({
      role: "admin",
      effectiveRole: "viewer",
    });
  });
});
