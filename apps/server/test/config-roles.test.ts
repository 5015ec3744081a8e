// The roles of the configuration features, one row per procedure: viewers see;
// operators roll out, pause, resume, abort, set debug levels and restore
// drift; admins install, adopt, release, uninstall, adopt drift and manage
// profiles. Each mutation is refused to the role below (403, or 401 without
// credentials) and the refusal changes nothing but its own audit event; at its
// role it gets past the role check (whatever the outcome with this input) and
// writes an audit event named after the procedure. A procedure whose role
// differs from the table fails here in either direction.
import { appRouter } from "@tapfleet/api";
import type { Role } from "@tapfleet/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./harness.ts";

let t: TestServer;
const tokens = {} as Record<Role, string>;

const CLUSTER = "matrix-cluster";
const DAEMON_SET = { namespace: "tapfleet", name: "sensor" };
const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";
const SETTINGS = { collectorHost: "collector.example.com", collectorPort: 8443 };
const IMAGE = "tapfleet/agent:1.0.0";
/** A profile of the admin's, for the procedures that act on one. */
const profile = { id: "" };

beforeAll(async () => {
  t = await startTestServer();
  for (const role of ["viewer", "operator", "admin"] as const)
    tokens[role] = (await t.userWithToken(role, `matrix-${role}`)).token;
  const created = await t.trpc("clusters.create", { input: { id: CLUSTER }, auth: { bearer: tokens.admin } });
  expect(created.status).toBe(200);
  const made = await t.trpc("profiles.create", {
    input: { name: "matrix-base", settings: SETTINGS, message: "first" },
    auth: { bearer: tokens.admin },
  });
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  profile.id = (made.body.result?.data as { id: string }).id;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const BELOW: Record<Role, Role | null> = { viewer: null, operator: "viewer", admin: "operator" };

/** Each mutation of the configuration features, its minimum role and an input that passes its schema. */
const MUTATIONS: [path: string, role: Role, input: () => unknown][] = [
  ["rollouts.start", "operator", () => ({ profileId: profile.id, revision: 1, clusterIds: [CLUSTER] })],
  ["rollouts.pause", "operator", () => ({ id: UNKNOWN_ID })],
  ["rollouts.resume", "operator", () => ({ id: UNKNOWN_ID })],
  ["rollouts.abort", "operator", () => ({ id: UNKNOWN_ID })],
  ["debugLevel.set", "operator", () => ({ id: CLUSTER, level: 3, minutes: 5 })],
  ["debugLevel.revert", "operator", () => ({ id: CLUSTER })],
  ["sensorDrift.restore", "operator", () => ({ id: CLUSTER })],
  ["sensorDrift.adopt", "admin", () => ({ id: CLUSTER, message: "kept" })],
  ["sensorInstall.install", "admin", () => ({ id: CLUSTER, settings: SETTINGS, image: IMAGE })],
  ["sensorInstall.adopt", "admin", () => ({ id: CLUSTER, ...DAEMON_SET })],
  ["sensorInstall.release", "admin", () => ({ id: CLUSTER })],
  ["sensorInstall.uninstall", "admin", () => ({ id: CLUSTER })],
  ["sensorInstall.manifestsPreview", "viewer", () => ({ id: CLUSTER, settings: SETTINGS, image: IMAGE })],
  ["profiles.create", "admin", () => ({ name: "matrix-profile", settings: SETTINGS, message: "first" })],
  [
    "profiles.saveRevision",
    "admin",
    () => ({ id: profile.id, expectedLatest: 1, settings: { ...SETTINGS, debugLevel: 2 }, message: "more" }),
  ],
  [
    "profiles.setOverride",
    "admin",
    () => ({ id: profile.id, clusterId: CLUSTER, settings: { debugLevel: 3 } }),
  ],
  ["profiles.removeOverride", "admin", () => ({ id: profile.id, clusterId: CLUSTER })],
];

/** What viewers see of the same features. */
const QUERIES: [path: string, input: () => unknown][] = [
  ["rollouts.list", () => ({})],
  ["rollouts.get", () => ({ id: UNKNOWN_ID })],
  ["debugLevel.get", () => ({ id: CLUSTER })],
  ["sensorDrift.get", () => ({ id: CLUSTER })],
  ["sensorInstall.status", () => ({ id: CLUSTER })],
  ["sensorInstall.manifests", () => ({ id: CLUSTER })],
  ["sensorInstall.adoptPreview", () => ({ id: CLUSTER, ...DAEMON_SET })],
  ["profiles.list", () => ({})],
  ["profiles.get", () => ({ id: profile.id })],
  ["profiles.diff", () => ({ id: profile.id, from: 1, to: 1 })],
  ["profiles.effective", () => ({ id: profile.id })],
  ["profiles.preview", () => ({ id: profile.id, settings: SETTINGS })],
];

/** The live feeds of the same features, open to viewers (checked on the tab's stream by live-stream tests). */
const SUBSCRIPTIONS: [path: string][] = [["rollouts.live"], ["debugLevel.live"], ["sensorDrift.live"]];

/** Everything the configuration features store, to tell that a refused call changed none of it. */
async function snapshot() {
  const { db } = t;
  return JSON.stringify(
    await Promise.all([
      db.cluster.findMany({ orderBy: { id: "asc" } }),
      db.profile.findMany({ orderBy: { id: "asc" } }),
      db.profileRevision.findMany({ orderBy: [{ profileId: "asc" }, { number: "asc" }] }),
      db.clusterOverride.findMany({ orderBy: { id: "asc" } }),
      db.debugLevel.findMany({ orderBy: { clusterId: "asc" } }),
      db.sensorInstall.findMany({ orderBy: { clusterId: "asc" } }),
      db.rollout.findMany({ orderBy: { id: "asc" } }),
      db.rolloutCluster.findMany({ orderBy: [{ rolloutId: "asc" }, { clusterId: "asc" }] }),
      db.sensorDrift.findMany({
        orderBy: [{ clusterId: "asc" }, { namespace: "asc" }, { daemonSetName: "asc" }],
      }),
      db.clusterConnection.findMany({ orderBy: { clusterId: "asc" } }),
    ]),
    (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value),
  );
}

const lastAuditEvent = () => t.db.auditEvent.findFirst({ orderBy: { id: "desc" } });

describe("configuration features: roles and audit", () => {
  it("the table names every procedure of these features", () => {
    const areas = ["rollouts.", "debugLevel.", "sensorDrift.", "sensorInstall.", "profiles."];
    const procedures = Object.entries(
      appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>,
    )
      .filter(([path]) => areas.some((area) => path.startsWith(area)))
      .map(([path, procedure]) => `${procedure._def.type} ${path}`)
      .sort();
    const listed = [
      ...MUTATIONS.map(([path]) => `mutation ${path}`),
      ...QUERIES.map(([path]) => `query ${path}`),
      ...SUBSCRIPTIONS.map(([path]) => `subscription ${path}`),
    ].sort();
    expect(procedures).toEqual(listed);
  });

  it.each(MUTATIONS)(
    "%s needs %s: refused below it, changing nothing, and audited at it",
    async (path, role, inputOf) => {
      const input = inputOf();
      const callers: [string, string | undefined][] = [["nobody", undefined]];
      const below = BELOW[role];
      if (below) callers.push([below, tokens[below]]);
      for (const [caller, token] of callers) {
        const before = await snapshot();
        const refused = await t.trpc(path, {
          input,
          method: "POST",
          auth: token ? { bearer: token } : undefined,
        });
        expect(refused.status, `${path} as ${caller}: ${JSON.stringify(refused.body)}`).toBe(
          token ? 403 : 401,
        );
        expect(await snapshot(), `${path} as ${caller} changed something`).toBe(before);
        const event = await lastAuditEvent();
        expect(event).toMatchObject({
          action: path,
          outcome: "failure",
          errorCode: token ? "FORBIDDEN" : "UNAUTHENTICATED",
        });
      }

      const allowed = await t.trpc(path, { input, method: "POST", auth: { bearer: tokens[role] } });
      expect([401, 403], `${path} as ${role}: ${JSON.stringify(allowed.body)}`).not.toContain(allowed.status);
      const event = await lastAuditEvent();
      expect(event?.action).toBe(path);
      expect(event?.actorName.startsWith(`matrix-${role}`)).toBe(true);
      expect(event?.outcome).toBe(allowed.status === 200 ? "success" : "failure");
    },
  );

  it.each(QUERIES)("%s is open to viewers", async (path, inputOf) => {
    const input = inputOf();
    const seen = await t.trpc(path, { input, method: "GET", auth: { bearer: tokens.viewer } });
    expect([401, 403], `${path}: ${JSON.stringify(seen.body)}`).not.toContain(seen.status);
    const anonymous = await t.trpc(path, { input, method: "GET" });
    expect(anonymous.status).toBe(401);
  });

  it("the manifests' Secret with the ingest key is for admins only", async () => {
    const input = { id: CLUSTER, includeSecret: "true" };
    for (const role of ["viewer", "operator"] as const) {
      const refused = await t.trpc("sensorInstall.manifests", {
        input,
        method: "GET",
        auth: { bearer: tokens[role] },
      });
      expect(refused.status).toBe(403);
      expect(JSON.stringify(refused.body)).toContain("includeSecret");
    }
    const admin = await t.trpc("sensorInstall.manifests", {
      input,
      method: "GET",
      auth: { bearer: tokens.admin },
    });
    expect([401, 403]).not.toContain(admin.status);
  });
});
