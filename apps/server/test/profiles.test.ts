// Configuration profiles over real HTTP (REST and tRPC) against a real
// PostgreSQL: revisions numbered per profile, a stale save refused naming who
// saved since, the contract's rules (and libpcap) at the server with nothing
// saved on a refusal, roles, audit entries, overrides with their source, and
// the interface preview from what real signed agent reports said.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentStatsReport, postStatsReport } from "../../../e2e/support/agent-reports.ts";
import { ADMIN_PASSWORD, startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";

let t: TestServer;
let admin: string;
let otherAdmin: string;
let viewer: string;
let adminCookie: string;

beforeAll(async () => {
  t = await startTestServer();
  admin = (await t.userWithToken("admin", "alice")).token;
  otherAdmin = (await t.userWithToken("admin", "bob")).token;
  viewer = (await t.userWithToken("viewer", "vera")).token;
  adminCookie = await t.login("admin", ADMIN_PASSWORD);
});
afterAll(async () => {
  await t?.stop();
});

async function rest(method: string, path: string, token: string, body?: unknown) {
  const answer = await callRest<Record<string, unknown> & { error?: { message: string } }>(t.url, {
    method,
    path,
    token,
    body,
  });
  return { status: answer.status, body: answer.json, message: answer.json.error?.message };
}

const SETTINGS = { collectorHost: "collector.example.com", excludeList: ["^veth"], bpf: "tcp" };

async function createProfile(name: string, settings: Record<string, unknown> = SETTINGS) {
  const created = await rest("POST", "/profiles", admin, { name, settings, message: "first cut" });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return created.body as { id: string; latestRevision: number; revisions: Array<{ number: number }> };
}

describe("profile revisions", () => {
  it("numbers every save 1, 2, 3…, keeps author and message, and refuses a stale save naming who saved", async () => {
    const profile = await createProfile("edge");
    expect(profile.latestRevision).toBe(1);

    const second = await rest("POST", `/profiles/${profile.id}/revisions`, admin, {
      expectedLatest: 1,
      settings: { ...SETTINGS, debugLevel: 3 },
      message: "more logs while we look at drops",
    });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body).toMatchObject({ number: 2, author: { type: "token", name: "alice-token" } });

    const third = await rest("POST", `/profiles/${profile.id}/revisions`, otherAdmin, {
      expectedLatest: 2,
      settings: { ...SETTINGS, debugLevel: 3, bpf: "tcp or udp" },
      message: "DNS too",
    });
    expect(third.body).toMatchObject({ number: 3, author: { name: "bob-token" } });

    // Alice still edits from r2: bob saved r3 since.
    const stale = await rest("POST", `/profiles/${profile.id}/revisions`, admin, {
      expectedLatest: 2,
      settings: { ...SETTINGS, debugLevel: 5 },
      message: "even more logs",
    });
    expect(stale.status).toBe(409);
    expect(stale.message).toMatch(/r3 was saved by bob-token at .*DNS too/);
    expect(await t.db.profileRevision.count({ where: { profileId: profile.id } })).toBe(3);

    const got = await rest("GET", `/profiles/${profile.id}`, viewer);
    expect(got.status).toBe(200);
    expect(
      (got.body.revisions as Array<{ number: number; message: string }>).map((r) => [r.number, r.message]),
    ).toEqual([
      [3, "DNS too"],
      [2, "more logs while we look at drops"],
      [1, "first cut"],
    ]);
  });

  it("diffs two revisions by setting", async () => {
    const profile = await createProfile("diffed");
    await rest("POST", `/profiles/${profile.id}/revisions`, admin, {
      expectedLatest: 1,
      // debugLevel 1 is the default: not a difference from unset.
      settings: {
        collectorHost: "eu.example.com",
        excludeList: ["^veth"],
        debugLevel: 1,
        collectorPort: 8443,
      },
      message: "EU collector",
    });
    const diff = await rest("GET", `/profiles/${profile.id}/diff?from=1&to=2`, viewer);
    expect(diff.status, JSON.stringify(diff.body)).toBe(200);
    expect(diff.body.changes).toEqual([
      {
        setting: "collectorHost",
        variable: "VSENSOR_HOSTNAME",
        kind: "changed",
        from: "collector.example.com",
        to: "eu.example.com",
        default: null,
      },
      {
        setting: "collectorPort",
        variable: "VSENSOR_PORT",
        kind: "added",
        from: null,
        to: 8443,
        default: 443,
      },
      { setting: "bpf", variable: "BPF", kind: "removed", from: "tcp", to: null, default: "" },
    ]);
    expect((await rest("GET", `/profiles/${profile.id}/diff?from=1&to=9`, viewer)).status).toBe(404);
  });

  it.each([
    [
      "an invalid ERE",
      { excludeList: ["^veth[0-9"] },
      /NETWORK_DEVICE_EXCLUDELIST: pattern "\^veth\[0-9" is not a valid egrep expression/,
    ],
    ["a BPF the pre-check refuses", { bpf: "tcp and" }, /BPF: "tcp and" is not a valid filter/],
    [
      "a BPF only libpcap refuses",
      { bpf: "tcp port 99999" },
      /settings\.bpf: BPF: "tcp port 99999" does not compile with libpcap: illegal port number/,
    ],
    [
      "a host with a port",
      { collectorHost: "collector.example.com:443" },
      /VSENSOR_HOSTNAME: .* contains a port/,
    ],
    ["a debug level out of range", { debugLevel: 6 }, /OSSENSOR_DEBUG: must be between 0 and 5; got 6/],
    [
      "the HMAC key, which belongs to the cluster",
      { hmacKey: "x".repeat(32) },
      /unknown setting\(s\): hmacKey/,
    ],
  ])("refuses %s with 400 naming the setting, and saves nothing", async (_name, change, message) => {
    const profile = await createProfile(`refusing-${Math.random().toString(36).slice(2, 8)}`);
    const before = await t.db.auditEvent.count({
      where: { action: "profiles.saveRevision", outcome: "failure" },
    });
    const saved = await rest("POST", `/profiles/${profile.id}/revisions`, admin, {
      expectedLatest: 1,
      settings: { ...SETTINGS, ...change },
      message: "should not land",
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(400);
    expect(saved.message).toMatch(message);
    expect(await t.db.profileRevision.count({ where: { profileId: profile.id } })).toBe(1);
    expect(
      await t.db.auditEvent.count({ where: { action: "profiles.saveRevision", outcome: "failure" } }),
    ).toBe(before + 1);
    const created = await rest("POST", "/profiles", admin, {
      name: "never-created",
      settings: { ...SETTINGS, ...change },
      message: "x",
    });
    expect(created.status).toBe(400);
    expect(await t.db.profile.count({ where: { name: "never-created" } })).toBe(0);
  });

  it("lets viewers read and refuses them every change with 403, changing nothing", async () => {
    const profile = await createProfile("guarded");
    expect((await rest("GET", "/profiles", viewer)).status).toBe(200);
    const attempts = [
      await rest("POST", "/profiles", viewer, { name: "by-viewer", settings: SETTINGS, message: "x" }),
      await rest("POST", `/profiles/${profile.id}/revisions`, viewer, {
        expectedLatest: 1,
        settings: SETTINGS,
        message: "x",
      }),
      await rest("PUT", `/profiles/${profile.id}/overrides/anywhere`, viewer, {
        settings: { debugLevel: 2 },
      }),
      await rest("DELETE", `/profiles/${profile.id}/overrides/anywhere`, viewer),
    ];
    expect(attempts.map((attempt) => attempt.status)).toEqual([403, 403, 403, 403]);
    expect(await t.db.profileRevision.count({ where: { profileId: profile.id } })).toBe(1);
    expect(await t.db.profile.count({ where: { name: "by-viewer" } })).toBe(0);
  });

  it("audits every change with who did it", async () => {
    const profile = await createProfile("audited");
    await rest("POST", `/profiles/${profile.id}/revisions`, admin, {
      expectedLatest: 1,
      settings: SETTINGS,
      message: "same again",
    });
    const events = await t.db.auditEvent.findMany({
      where: { target: profile.id },
      orderBy: { id: "asc" },
      select: { action: true, actorName: true, outcome: true, targetName: true },
    });
    expect(events).toEqual([
      {
        action: "profiles.create",
        actorName: "alice-token",
        outcome: "success",
        targetName: "profile audited",
      },
      {
        action: "profiles.saveRevision",
        actorName: "alice-token",
        outcome: "success",
        targetName: "profile audited",
      },
    ]);
  });

  it("keeps revisions immutable in the database itself", async () => {
    const profile = await createProfile("frozen");
    await expect(
      t.db.profileRevision.updateMany({ where: { profileId: profile.id }, data: { message: "rewritten" } }),
    ).rejects.toThrow();
    await expect(t.db.profileRevision.deleteMany({ where: { profileId: profile.id } })).rejects.toThrow();
    expect((await t.db.profileRevision.findFirstOrThrow({ where: { profileId: profile.id } })).message).toBe(
      "first cut",
    );
  });
});

describe("cluster overrides and the interface preview", () => {
  let cluster: { clusterId: string; keyId: string; secret: string };
  beforeAll(async () => {
    const created = await t.trpc("clusters.create", {
      input: { id: "prod-eu" },
      auth: { cookie: adminCookie },
    });
    expect(created.status).toBe(200);
    cluster = created.body.result?.data as typeof cluster;
  });

  it("merges an override with the profile and says where each value comes from", async () => {
    const profile = await createProfile("regional");
    const set = await rest("PUT", `/profiles/${profile.id}/overrides/prod-eu`, admin, {
      settings: { collectorHost: "eu.collector.example.com" },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const effective = await rest("GET", `/profiles/${profile.id}/effective?clusterId=prod-eu`, viewer);
    const settings = effective.body.settings as Array<{
      setting: string;
      value: unknown;
      source: { label: string };
    }>;
    const of = (key: string) => settings.find((item) => item.setting === key);
    expect(of("collectorHost")).toMatchObject({
      value: "eu.collector.example.com",
      source: { label: "override for prod-eu" },
    });
    expect(of("bpf")).toMatchObject({ value: "tcp", source: { label: "profile r1" } });
    expect(of("collectorPort")).toMatchObject({ value: 443, source: { label: "default" } });

    // Combinations are checked merged: a CA file with the profile's tlsInsecure… here the reverse.
    const bad = await rest("PUT", `/profiles/${profile.id}/overrides/prod-eu`, admin, {
      settings: { debugLevel: 9 },
    });
    expect(bad.status).toBe(400);
    expect(bad.message).toMatch(/OSSENSOR_DEBUG/);
    expect(
      (await rest("PUT", `/profiles/${profile.id}/overrides/nowhere`, admin, { settings: { debugLevel: 2 } }))
        .status,
    ).toBe(404);

    const removed = await rest("DELETE", `/profiles/${profile.id}/overrides/prod-eu`, admin);
    expect(removed.status).toBe(200);
    const after = await rest("GET", `/profiles/${profile.id}/effective?clusterId=prod-eu`, viewer);
    expect(
      (after.body.settings as typeof settings).find((item) => item.setting === "collectorHost"),
    ).toMatchObject({
      source: { label: "profile r1" },
    });
    expect(await t.db.clusterOverride.count({ where: { profileId: profile.id } })).toBe(2);
    expect((await rest("DELETE", `/profiles/${profile.id}/overrides/prod-eu`, admin)).status).toBe(404);
  });

  async function sendReport(nodeName: string, nodeInterfaces: string[] | undefined) {
    const report = agentStatsReport(
      { clusterId: cluster.clusterId, nodeName, sequence: 0 },
      nodeInterfaces ? { nodeInterfaces } : {},
    );
    const response = await postStatsReport(t.url, cluster, report);
    expect(response.status, await response.text()).toBe(200);
  }

  it("previews which interfaces each node would capture, from the agents' reports", async () => {
    await sendReport("node-a", ["eth0", "lo", "veth1", "ens5"]);
    await sendReport("node-b", undefined);
    const profile = await createProfile("previewed");
    const preview = await rest("POST", `/profiles/${profile.id}/preview`, viewer, {
      settings: { collectorHost: "c.example.com", includeList: ["^(eth|veth)"], excludeList: ["^veth"] },
    });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body.nodes).toEqual([
      expect.objectContaining({
        clusterId: "prod-eu",
        nodeName: "node-a",
        known: true,
        interfaces: [
          { name: "ens5", captured: false, reason: "not_included" },
          { name: "eth0", captured: true, reason: null },
          { name: "lo", captured: false, reason: "not_included" },
          { name: "veth1", captured: false, reason: "excluded" },
        ],
      }),
      expect.objectContaining({ nodeName: "node-b", known: false, interfaces: [] }),
    ]);
    // A preview is a read: not audited, nothing stored.
    expect(await t.db.auditEvent.count({ where: { action: "profiles.preview" } })).toBe(0);
  });

  it("still previews a node whose agent uploaded packets after its last report", async () => {
    await sendReport("node-c", ["eth0", "lo"]);
    // A packet chunk upload marks the sensor seen (the ingest gateway sets lastSeenAt to the
    // upload's time), which is not the time of any report.
    await t.db.sensor.update({
      where: { clusterId_nodeName: { clusterId: cluster.clusterId, nodeName: "node-c" } },
      data: { lastSeenAt: new Date(Date.now() + 1500) },
    });
    const profile = await createProfile("previewed-after-upload");
    const preview = await rest("POST", `/profiles/${profile.id}/preview`, viewer, {
      settings: { collectorHost: "c.example.com" },
    });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    const nodes = preview.body.nodes as { nodeName: string; known: boolean; interfaces: unknown[] }[];
    expect(nodes.find((node) => node.nodeName === "node-c")).toMatchObject({
      known: true,
      interfaces: [
        { name: "eth0", captured: true, reason: null },
        { name: "lo", captured: false, reason: "loopback" },
      ],
    });
  });
});
