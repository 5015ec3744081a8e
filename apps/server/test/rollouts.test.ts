// Rollouts over real HTTP against two simulated clusters (fake kubelet)
// reached through their stored connections, each with a sensor installed by
// Tapfleet: refusals at their field, a canary-first rollout that changes every
// pod, a change whose agents crash rolled back by itself with the reason, and
// pause, resume and abort.
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { agentStatsReport, postStatsReport } from "../../../e2e/support/agent-reports.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";
import { readSse } from "./sse.ts";

let t: TestServer;
const sims: Record<string, RunningSimCluster> = {};
let admin: string;
let operator: string;
let viewer: string;
let profileId: string;
const ingestKeys: Record<string, { keyId: string; secret: string }> = {};

type Json = Record<string, unknown>;
interface RolloutAnswer {
  id: string;
  status: string;
  reason: string | null;
  durationMs: number;
  startedBy: { name: string };
  clusters: Array<{
    clusterId: string;
    wave: number;
    status: string;
    reason: string | null;
    startedAt: string | null;
    finishedAt: string | null;
    previous: { revision: number | null } | null;
    progress: { nodes: Array<{ nodeName: string; updated: boolean; ready: boolean }> } | null;
  }>;
}

const NAMESPACE = "tapfleet-sensor";
const NAME = "tapfleet-sensor";
const CRASH_MESSAGE = "connect to collector.example.com:9999: connection refused";

const rest = (method: string, path: string, body?: unknown, token = operator) =>
  callRest<Json>(t.url, { method, path, body, token });

interface EnvEntry {
  name: string;
  value?: string;
}
interface PodTemplate {
  metadata?: { annotations?: Record<string, string> };
  spec: { containers: Array<{ name: string; image: string; env?: EnvEntry[] }> };
}

/** The capture container's env and Tapfleet's annotations of the DaemonSet's template and of each live pod. */
function inCluster(clusterId: string) {
  const sim = sims[clusterId]!;
  const read = (template: PodTemplate) => {
    const env = Object.fromEntries(
      (template.spec.containers.find((c) => c.name === "capture")?.env ?? []).map((e) => [
        e.name,
        e.value ?? "(ref)",
      ]),
    );
    return { env, revision: template.metadata?.annotations?.["tapfleet.io/config-revision"] ?? null };
  };
  const daemonSet = sim.store.get("daemonsets.apps", NAMESPACE, NAME) as unknown as {
    spec: { template: PodTemplate; updateStrategy?: unknown };
  };
  const pods = sim.store
    .list("pods", { namespace: NAMESPACE })
    .items.filter((pod) => !pod.metadata.deletionTimestamp)
    .map((pod) => ({
      ...read(pod as unknown as PodTemplate),
      ready: (
        (pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []
      ).some((c) => c.type === "Ready" && c.status === "True"),
    }));
  return { template: read(daemonSet.spec.template), updateStrategy: daemonSet.spec.updateStrategy, pods };
}

async function waitForRollout(id: string, statuses: string[], timeoutMs = 30_000): Promise<RolloutAnswer> {
  const answer = await waitFor(() => rest("GET", `/rollouts/${id}`, undefined, viewer), {
    what: `rollout ${id} to be ${statuses.join(" or ")}`,
    timeoutMs,
    until: (a) => statuses.includes(String(a.json.status)),
  });
  return answer.json as unknown as RolloutAnswer;
}

const everyPodOn = (clusterId: string, revision: number) => {
  const seen = inCluster(clusterId);
  return (
    seen.pods.length === 2 &&
    seen.pods.every((pod) => pod.revision === `${profileId}@${revision}` && pod.ready)
  );
};

beforeAll(async () => {
  const crashWhen = ({ env }: { env: Record<string, string> }) =>
    env.VSENSOR_PORT === "9999" ? { exitCode: 1, message: CRASH_MESSAGE } : false;
  const [server, east, west] = await Promise.all([
    startTestServer(),
    startSimCluster({ nodes: 2, kubelet: "fake", crashWhen, crashAfterMs: 100, backOffBaseMs: 200 }),
    startSimCluster({ nodes: 2, kubelet: "fake", crashWhen, crashAfterMs: 100, backOffBaseMs: 200 }),
  ]);
  t = server;
  sims.east = east;
  sims.west = west;
  admin = (await t.userWithToken("admin")).token;
  operator = (await t.userWithToken("operator")).token;
  viewer = (await t.userWithToken("viewer")).token;
  for (const [id, sim] of Object.entries(sims)) {
    const cluster = await rest("POST", "/clusters", { id }, admin);
    expect(cluster.status).toBe(200);
    ingestKeys[id] = { keyId: String(cluster.json.keyId), secret: String(cluster.json.secret) };
    const saved = await rest(
      "PUT",
      `/clusters/${id}/connection`,
      { kubeconfig: sim.kubeconfig(), context: sim.name },
      admin,
    );
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    const installed = await rest(
      "POST",
      `/clusters/${id}/sensor`,
      { settings: { collectorHost: "collector.example.com" }, image: "tapfleet/agent:1.0.0" },
      admin,
    );
    expect(installed.status, JSON.stringify(installed.json)).toBe(200);
    // A cluster operator's choice, kept by rollouts: pods count as available after 1 s Ready
    // (instead of the rendered 10 s), which keeps this file fast and still outlasts a crash 100 ms after start.
    const daemonSet = structuredClone(sim.store.get("daemonsets.apps", NAMESPACE, NAME)!);
    (daemonSet.spec as Json).minReadySeconds = 1;
    sim.store.update("daemonsets.apps", daemonSet);
  }
  expect((await rest("POST", "/clusters", { id: "bare" }, admin)).status).toBe(200);
  const created = await rest(
    "POST",
    "/profiles",
    { name: "edge", settings: { collectorHost: "collector.example.com", debugLevel: 1 }, message: "first" },
    admin,
  );
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  profileId = String(created.json.id);
  for (const [expectedLatest, settings] of [
    [1, { collectorHost: "collector.example.com", debugLevel: 3 }],
    [2, { collectorHost: "collector.example.com", debugLevel: 3, collectorPort: 9999 }],
  ] as const) {
    const saved = await rest(
      "POST",
      `/profiles/${profileId}/revisions`,
      { expectedLatest, settings, message: `r${expectedLatest + 1}` },
      admin,
    );
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([t?.stop(), ...Object.values(sims).map((sim) => sim.stop())]);
});

describe("rollouts: refusals", () => {
  it.each([
    [{ revision: 9, clusterIds: ["east"] }, 400, "revision", "has no revision r9 (its latest is r3)"],
    [{ revision: 2, clusterIds: ["east", "nowhere"] }, 400, "clusterIds", "unknown cluster: nowhere"],
    [{ revision: 2, clusterIds: ["bare"] }, 400, "clusterIds", "no sensor managed by Tapfleet in bare"],
    [{ revision: 2, clusterIds: ["east", "east"] }, 400, "clusterIds", "must not name a cluster twice"],
    [{ revision: 2, clusterIds: [] }, 400, "clusterIds", "must name at least one cluster"],
    [
      { revision: 2, clusterIds: ["east"], strategy: { canaryClusterIds: ["west"] } },
      400,
      "canaryClusterIds",
      "must be among clusterIds",
    ],
    [
      { revision: 2, clusterIds: ["east"], strategy: { gateSeconds: 5 } },
      400,
      "gateSeconds",
      "between 10 and 3600",
    ],
    [
      { revision: 2, clusterIds: ["east"], strategy: { maxUnavailable: 0, maxSurge: 0 } },
      400,
      "maxUnavailable",
      "may not be 0",
    ],
  ])("%j is refused (%i) at its field, and nothing starts", async (body, status, field, text) => {
    const answer = await rest("POST", "/rollouts", { profileId, ...body });
    expect(answer.status, JSON.stringify(answer.json)).toBe(status);
    expect(JSON.stringify(answer.json)).toContain(field);
    expect(JSON.stringify(answer.json)).toContain(text);
    expect((await rest("GET", "/rollouts")).json.items).toEqual([]);
  });

  it("an unknown profile is refused at profileId; a viewer may read but not start (403, audited)", async () => {
    const unknown = await rest("POST", "/rollouts", {
      profileId: "00000000-0000-4000-8000-000000000000",
      revision: 1,
      clusterIds: ["east"],
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toContain("profileId");
    const forbidden = await rest(
      "POST",
      "/rollouts",
      { profileId, revision: 2, clusterIds: ["east"] },
      viewer,
    );
    expect(forbidden.status).toBe(403);
    const event = await t.db.auditEvent.findFirst({
      where: { action: "rollouts.start", outcome: "failure" },
      orderBy: { id: "desc" },
    });
    expect(event?.errorCode).toBe("FORBIDDEN");
    expect((await rest("GET", "/rollouts", undefined, viewer)).status).toBe(200);
    expect(
      (await rest("GET", "/rollouts/00000000-0000-4000-8000-000000000000", undefined, viewer)).status,
    ).toBe(404);
  });
});

describe("rollouts: canary first, then the rest", () => {
  it("changes the canary, then the other cluster: every pod runs the revision, and the install records it", async () => {
    // A viewer follows it live.
    const live = new AbortController();
    const stream = await fetch(`${t.url}/trpc/rollouts.live`, {
      headers: { authorization: `Bearer ${viewer}`, accept: "text/event-stream" },
      signal: live.signal,
    });
    expect(stream.status).toBe(200);
    const started = await rest("POST", "/rollouts", {
      profileId,
      revision: 2,
      clusterIds: ["east", "west"],
      strategy: { canaryClusterIds: ["west"], gateSeconds: 60, maxUnavailable: 1 },
    });
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    const id = String(started.json.id);
    expect(started.json).toMatchObject({
      revision: 2,
      profile: { id: profileId, name: "edge" },
      clusters: [
        { clusterId: "west", wave: 0, status: "pending" },
        { clusterId: "east", wave: 1, status: "pending" },
      ],
    });

    // Another rollout on a cluster of this one is a conflict, and changes nothing.
    const overlapping = await rest("POST", "/rollouts", { profileId, revision: 1, clusterIds: ["east"] });
    expect(overlapping.status).toBe(409);
    expect(JSON.stringify(overlapping.json)).toContain(`east is in rollout ${id}`);

    const done = await waitForRollout(id, ["succeeded", "failed", "rolled-back"]);
    expect(done.status, JSON.stringify(done)).toBe("succeeded");
    const messages = await readSse(stream).readUntil<{ rolloutId: string; status: string }>(
      (received) => received.some((m) => m.rolloutId === id && m.status === "succeeded"),
      10_000,
    );
    live.abort();
    const statuses = messages.filter((m) => m.rolloutId === id).map((m) => m.status);
    expect(statuses[0]).toBe("pending");
    expect(statuses).toContain("running");
    expect(statuses.at(-1)).toBe("succeeded");
    const [west, east] = done.clusters;
    expect(west).toMatchObject({ clusterId: "west", status: "succeeded", previous: { revision: null } });
    expect(east).toMatchObject({ clusterId: "east", status: "succeeded" });
    // The canary passed its gate before the next wave started.
    expect(Date.parse(west!.finishedAt!)).toBeLessThanOrEqual(Date.parse(east!.startedAt!));
    expect(east!.progress?.nodes.map((n) => [n.updated, n.ready])).toEqual([
      [true, true],
      [true, true],
    ]);

    for (const clusterId of ["east", "west"]) {
      await waitFor(() => everyPodOn(clusterId, 2), {
        what: `${clusterId}'s pods on r2`,
        timeoutMs: 10_000,
        until: (ok) => ok,
      });
      const seen = inCluster(clusterId);
      expect(seen.template.env).toMatchObject({
        OSSENSOR_DEBUG: "3",
        VSENSOR_HOSTNAME: "collector.example.com",
      });
      expect(seen.template.env.VSENSOR_HMAC_KEY).toBe("(ref)");
      expect(seen.updateStrategy).toEqual({
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
      });
      expect(seen.pods.every((pod) => pod.env.OSSENSOR_DEBUG === "3")).toBe(true);
      const install = await t.db.sensorInstall.findUniqueOrThrow({ where: { clusterId } });
      expect([install.profileId, install.profileRevision]).toEqual([profileId, 2]);
      expect(install.settings).toEqual({ collectorHost: "collector.example.com", debugLevel: 3 });
    }

    const listed = await rest("GET", "/rollouts", undefined, viewer);
    expect(listed.json.items).toEqual([
      expect.objectContaining({
        id,
        status: "succeeded",
        revision: 2,
        startedBy: expect.objectContaining({ name: expect.any(String) }),
      }),
    ]);
    const event = await t.db.auditEvent.findFirst({
      where: { action: "rollouts.start", outcome: "success" },
    });
    expect(event?.target).toBe(id);
  }, 60_000);
});

describe("rollouts: a change whose agents crash", () => {
  it("is rolled back by itself on the canary with the reason, and the other cluster is not touched", async () => {
    const started = await rest("POST", "/rollouts", {
      profileId,
      revision: 3,
      clusterIds: ["east", "west"],
      strategy: { canaryClusterIds: ["east"], gateSeconds: 60 },
    });
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    const done = await waitForRollout(String(started.json.id), ["succeeded", "failed", "rolled-back"]);
    expect(done.status, JSON.stringify(done)).toBe("rolled-back");
    expect(done.reason).toMatch(
      /^east: node-\d: (CrashLoopBackOff|Error), exit code 1(, restarted \d+ times?)?, last message: /,
    );
    expect(done.reason).toContain(CRASH_MESSAGE);
    expect(done.clusters.map((c) => [c.clusterId, c.status])).toEqual([
      ["east", "rolled-back"],
      ["west", "skipped"],
    ]);
    expect(done.clusters[0]!.previous).toEqual({ profileId, revision: 2 });
    // The per-node progress follows the pods going back.
    expect(done.clusters[0]!.progress?.nodes.map((n) => n.updated)).toEqual([true, true]);

    // The template from before is back, and its pods come up again.
    expect(inCluster("east").template).toEqual({
      env: expect.not.objectContaining({ VSENSOR_PORT: expect.anything() }),
      revision: `${profileId}@2`,
    });
    await waitFor(() => everyPodOn("east", 2), {
      what: "east's pods back on r2",
      timeoutMs: 15_000,
      until: (ok) => ok,
    });
    expect(everyPodOn("west", 2)).toBe(true);
    const install = await t.db.sensorInstall.findUniqueOrThrow({ where: { clusterId: "east" } });
    expect(install.profileRevision).toBe(2);
  }, 60_000);
});

describe("rollouts: pause, resume, abort", () => {
  it("a paused rollout starts no further cluster until resumed", async () => {
    // With a surge: each node's new pod starts next to the old one, which stops once the new one is available.
    const started = await rest("POST", "/rollouts", {
      profileId,
      revision: 1,
      clusterIds: ["east", "west"],
      strategy: { maxUnavailable: 0, maxSurge: 1 },
    });
    expect(started.status).toBe(200);
    const id = String(started.json.id);
    expect((await rest("POST", `/rollouts/${id}/pause`, {}, viewer)).status).toBe(403);
    const paused = await rest("POST", `/rollouts/${id}/pause`, {});
    expect(paused.status, JSON.stringify(paused.json)).toBe(200);
    expect(paused.json).toMatchObject({ status: "paused", reason: expect.stringContaining("paused by") });
    // Whatever was under way finishes; the second wave waits.
    const settled = await waitFor(() => rest("GET", `/rollouts/${id}`), {
      what: "the paused rollout to have nothing under way",
      timeoutMs: 20_000,
      until: (a) =>
        (a.json as unknown as RolloutAnswer).clusters.every((c) =>
          ["pending", "succeeded"].includes(c.status),
        ),
    });
    const clusters = (settled.json as unknown as RolloutAnswer).clusters;
    expect(clusters[1]).toMatchObject({ clusterId: "west", status: "pending" });
    expect(settled.json.status).toBe("paused");
    // A debug level on a cluster the rollout is still to change is refused, and changes nothing.
    const debug = await rest("POST", "/clusters/west/debug-level", { level: 4, minutes: 5 });
    expect(debug.status).toBe(409);
    expect(JSON.stringify(debug.json)).toContain(`Rollout ${id} (paused) is still to change cluster`);
    expect(inCluster("west").template.env.OSSENSOR_DEBUG).toBe("3");
    expect((await rest("POST", `/rollouts/${id}/pause`, {})).status).toBe(409);

    expect((await rest("POST", `/rollouts/${id}/resume`, {})).status).toBe(200);
    const done = await waitForRollout(id, ["succeeded", "failed", "rolled-back"]);
    expect(done.status).toBe("succeeded");
    expect(inCluster("west").updateStrategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    await waitFor(() => everyPodOn("west", 1), {
      what: "west's pods on r1",
      timeoutMs: 10_000,
      until: (ok) => ok,
    });
    expect((await rest("POST", `/rollouts/${id}/resume`, {})).status).toBe(409);
  }, 60_000);

  it("abort rolls back what is under way and skips the rest", async () => {
    const started = await rest("POST", "/rollouts", { profileId, revision: 2, clusterIds: ["east", "west"] });
    expect(started.status).toBe(200);
    const id = String(started.json.id);
    const aborting = await rest("POST", `/rollouts/${id}/abort`, {});
    expect(aborting.status, JSON.stringify(aborting.json)).toBe(200);
    expect(aborting.json.status).toBe("aborting");
    const done = await waitForRollout(id, ["aborted", "succeeded", "failed", "rolled-back"]);
    expect(done.status).toBe("aborted");
    expect(done.reason).toMatch(/^aborted by /);
    // Nothing is left half-done: each cluster either kept r1 (rolled back or never started).
    for (const cluster of done.clusters) {
      expect(["rolled-back", "skipped"]).toContain(cluster.status);
      expect(inCluster(cluster.clusterId).template.revision).toBe(`${profileId}@1`);
    }
    expect((await rest("POST", `/rollouts/${id}/abort`, {})).status).toBe(409);
    const events = await t.db.auditEvent.findMany({
      where: { action: { in: ["rollouts.pause", "rollouts.resume", "rollouts.abort"] }, outcome: "success" },
      orderBy: { id: "asc" },
    });
    expect(events.map((e) => e.action)).toEqual(["rollouts.pause", "rollouts.resume", "rollouts.abort"]);
  }, 60_000);
});

/** The live sensor pod of each node of a cluster. */
function podsByNode(clusterId: string): Map<string, string> {
  const pods = sims[clusterId]!.store.list("pods", { namespace: NAMESPACE }).items.filter(
    (pod) => !pod.metadata.deletionTimestamp,
  );
  return new Map(pods.map((pod) => [String((pod.spec as Json).nodeName), pod.metadata.name!]));
}

let sequence = 0;
/** A signed report from the agent in `podName`, counting `packets` since it started. */
async function report(clusterId: string, nodeName: string, podName: string, packets: number) {
  const response = await postStatsReport(
    t.url,
    ingestKeys[clusterId]!,
    agentStatsReport(
      { clusterId, nodeName, podName, sequence: ++sequence, startedAt: Date.now() - 1_000 },
      {
        interfaces: [
          {
            name: "eth0",
            packets,
            bytes: packets * 100,
            kernelDrops: 0,
            interfaceDrops: 0,
            protocols: { ipv4: packets, ipv6: 0, tcp: packets, udp: 0, icmp: 0, other: 0 },
            topTalkers: [],
          },
        ],
      },
    ),
  );
  expect(response.status, await response.text()).toBeLessThan(300);
}

/** Waits until every pod of the cluster under way runs the new template, and returns the new pods. */
async function newPodsOf(id: string): Promise<Array<{ nodeName: string; podName: string }>> {
  const answer = await waitFor(() => rest("GET", `/rollouts/${id}`, undefined, viewer), {
    what: "every node's pod on the new template",
    timeoutMs: 15_000,
    until: (a) => {
      const nodes = (a.json as unknown as RolloutAnswer).clusters[0]?.progress?.nodes ?? [];
      return nodes.length === 2 && nodes.every((n) => n.updated && n.ready);
    },
  });
  return (answer.json as unknown as RolloutAnswer).clusters[0]!.progress!.nodes.map((n) => ({
    nodeName: n.nodeName,
    podName: (n as unknown as { podName: string }).podName,
  }));
}

describe("rollouts: agents that reported before the change", () => {
  it("must report again from the new pods before the cluster passes", async () => {
    for (const [nodeName, podName] of podsByNode("east")) await report("east", nodeName, podName, 1_000);
    // From "apply" to the gate: the DaemonSet read once (its whole template, for the rollback)
    // and patched once, guarded by that read's generation; the pods for the baseline and the
    // DaemonSet after the write are the watch's and the write's answer, not more requests.
    const applying = sims.east!.requestLog.record();
    const started = await rest("POST", "/rollouts", {
      profileId,
      revision: 2,
      clusterIds: ["east"],
      strategy: { gateSeconds: 60 },
    });
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    const id = String(started.json.id);
    await waitFor(() => rest("GET", `/rollouts/${id}`, undefined, viewer), {
      what: "east gating",
      timeoutMs: 10_000,
      until: (a) => (a.json as unknown as RolloutAnswer).clusters[0]?.status === "gating",
    });
    applying.stop();
    const daemonSetPath = `/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets/${NAME}`;
    const untilGating = applying.requests.filter((r) => !r.watch);
    expect(
      untilGating.filter((r) => r.path.startsWith(`/api/v1/namespaces/${NAMESPACE}/pods`)).map((r) => r.path),
    ).toEqual([]);
    expect(untilGating.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH ${daemonSetPath}`,
    ]);
    // One read by the runner; the drift controller may read it once as what it expects changes.
    expect(
      untilGating.filter((r) => r.method === "GET" && r.path === daemonSetPath).length,
    ).toBeLessThanOrEqual(2);
    const pods = await newPodsOf(id);
    const waiting = await waitFor(() => rest("GET", `/rollouts/${id}`, undefined, viewer), {
      what: "the gate to wait for the new agents",
      timeoutMs: 10_000,
      until: (a) => JSON.stringify(a.json).includes("no report from the new agent"),
    });
    expect(waiting.json.status).toBe("running");
    expect((waiting.json as unknown as RolloutAnswer).clusters[0]!.status).toBe("gating");
    // Drift expects what a rollout under way applies: the change is not flagged as drift.
    const startedAt = Date.parse((waiting.json as unknown as RolloutAnswer).clusters[0]!.startedAt!);
    const drift = await waitFor(() => rest("GET", "/clusters/east/sensor/drift", undefined, viewer), {
      what: "east's drift verdict since the change",
      timeoutMs: 10_000,
      until: (a) => {
        const verdict = (a.json.drifts as Array<{ state: string; checkedAt: string }> | undefined)?.[0];
        return (
          verdict !== undefined && Date.parse(verdict.checkedAt) >= startedAt && verdict.state === "in-sync"
        );
      },
    });
    expect(drift.json.drifts).toEqual([expect.objectContaining({ state: "in-sync", changes: [] })]);

    // While the gate waits, the leader follows the cluster through its watches: the API
    // server sees the watches, and no read of the DaemonSet or a list of its pods. The
    // window is a measure of time (the runner used to read both every second), not a wait
    // for an event.
    const recording = sims.east!.requestLog.record();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // A report of one new agent wakes the runner, which judges it from the watch's state.
    const [first, second] = pods;
    await report("east", first!.nodeName, first!.podName, 200);
    await waitFor(() => rest("GET", `/rollouts/${id}`, undefined, viewer), {
      what: "the gate to wait only for the other new agent",
      timeoutMs: 10_000,
      until: (a) => {
        const text = JSON.stringify(a.json);
        return (
          !text.includes(`${first!.nodeName}: no report`) && text.includes(`${second!.nodeName}: no report`)
        );
      },
    });
    await report("east", second!.nodeName, second!.podName, 200);
    const done = await waitForRollout(id, ["succeeded", "failed", "rolled-back"]);
    recording.stop();
    expect(done.status, JSON.stringify(done)).toBe("succeeded");
    // Until the gate passed (the install's new record then makes drift read the DaemonSet).
    const passedAt = Date.parse(done.clusters[0]!.finishedAt!);
    const reads = (path: string) =>
      recording.requests.filter(
        (r) => r.at < passedAt && r.method === "GET" && !r.watch && r.path.startsWith(path),
      );
    expect(reads(`/api/v1/namespaces/${NAMESPACE}/pods`).map((r) => r.path)).toEqual([]);
    // The drift controller reads the DaemonSet once when what it expects changes; the runner
    // used to read it every second of these 3 s and more.
    expect(reads(`/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets/${NAME}`).length).toBeLessThanOrEqual(1);
    // The watches themselves are what the API server saw of the leader's DaemonSets and pods.
    expect(recording.requests.every((r) => r.method === "GET")).toBe(true);
  }, 60_000);

  it("a change whose new agents capture nothing is rolled back at the gate's deadline, saying so", async () => {
    for (const [nodeName, podName] of podsByNode("east")) await report("east", nodeName, podName, 5_000);
    const started = await rest("POST", "/rollouts", {
      profileId,
      revision: 1,
      clusterIds: ["east"],
      strategy: { gateSeconds: 10 },
    });
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    const id = String(started.json.id);
    for (const pod of await newPodsOf(id)) await report("east", pod.nodeName, pod.podName, 0);
    const done = await waitForRollout(id, ["succeeded", "failed", "rolled-back"], 30_000);
    expect(done.status, JSON.stringify(done)).toBe("rolled-back");
    expect(done.reason).toMatch(
      /^east: not healthy within 10 s: node-\d: the new agent captures nothing \(it captured before the change\)/,
    );
    expect(inCluster("east").template.revision).toBe(`${profileId}@2`);
  }, 60_000);
});
