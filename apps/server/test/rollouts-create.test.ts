// Starting a rollout costs a fixed number of statements, however many clusters
// it targets: the checks read every cluster in one statement each, the plan is
// written in one INSERT, and the transaction holds its connection only for the
// lock, the check of rollouts under way and the writes.
import {
  markInventoryStale,
  startRollout,
  ZStartRolloutSchema,
  type AuthenticatedActor,
} from "@tapfleet/core";
import { createDb, createLiveBus, type Db, type LiveBus } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let database: TestDatabase;
let db: Db;
let bus: LiveBus;
let profileId: string;
const statements: string[] = [];
let counting = false;

const actor: AuthenticatedActor = {
  type: "user",
  id: "00000000-0000-4000-8000-000000000001",
  name: "operator",
  role: "operator",
  sessionId: "session",
};

async function seedClusters(prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
  const now = new Date();
  await db.cluster.createMany({ data: ids.map((id) => ({ id })) });
  await db.clusterConnection.createMany({
    data: ids.map((clusterId) => ({
      clusterId,
      kubeconfigCiphertext: "not read by a start",
      context: "sim",
      server: "https://127.0.0.1:6443",
      authKind: "token",
      state: "reachable",
      stateSince: now,
      checkedAt: now,
    })),
  });
  await db.sensorInstall.createMany({
    data: ids.map((clusterId) => ({
      clusterId,
      revision: 1,
      namespace: "tapfleet-sensor",
      name: `sensor-${clusterId}`,
      image: "tapfleet/sensor:1",
      captureMode: "capabilities",
      networkPolicy: false,
      createdNamespace: true,
      settings: {},
      configHash: "hash",
      objects: [],
      installedBy: "admin",
      installedAt: now,
    })),
  });
  return ids;
}

/** Starts a rollout to the clusters and returns the statements it sent. */
async function countStart(clusterIds: string[]) {
  statements.length = 0;
  counting = true;
  try {
    const view = await startRollout({
      db,
      bus,
      actor,
      input: ZStartRolloutSchema.parse({
        profileId,
        revision: 1,
        clusterIds,
        strategy: { canaryClusterIds: [clusterIds[0]], waveSize: 10 },
      }),
    });
    return { view, statements: [...statements] };
  } finally {
    counting = false;
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({
    url: database.url,
    maxConnections: 3,
    onQuery: ({ query }) => {
      if (counting) statements.push(query);
    },
  });
  bus = await createLiveBus({ url: database.url, onError: () => undefined });
  const profile = await db.profile.create({
    data: {
      name: "default",
      createdByType: "user",
      createdByName: "admin",
      revisions: {
        create: { number: 1, settings: {}, message: "first", authorType: "user", authorName: "admin" },
      },
    },
  });
  profileId = profile.id;
}, 60_000);

afterAll(async () => {
  await bus?.close();
  await db?.$disconnect();
  await database?.stop();
});

describe("starting a rollout", () => {
  it("sends the same few statements for 2 clusters as for 50, and records every cluster in its wave", async () => {
    const small = await countStart(await seedClusters("small", 2));
    const large = await countStart(await seedClusters("large", 50));

    expect(large.view.clusters).toHaveLength(50);
    expect(large.view.clusters.map((c) => c.position)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(large.view.clusters[0]).toMatchObject({
      clusterId: "large-0",
      wave: 0,
      status: "pending",
      daemonSet: { namespace: "tapfleet-sensor", name: "sensor-large-0" },
    });
    expect(large.view.clusters[49]).toMatchObject({ clusterId: "large-49", wave: 5 });
    expect(small.view.clusters.map((c) => c.clusterId)).toEqual(["small-0", "small-1"]);

    // Not one statement more per cluster, and few: two reads, then the lock, the check, two INSERTs and COMMIT.
    expect(large.statements.length, large.statements.join("\n")).toBe(small.statements.length);
    expect(large.statements.length, large.statements.join("\n")).toBeLessThanOrEqual(7);
    const inserts = large.statements.filter((query) =>
      /^\s*INSERT INTO "public"."RolloutCluster"/.test(query),
    );
    expect(inserts).toHaveLength(1);
  });

  it("refuses a cluster already in a rollout under way and records nothing", async () => {
    const ids = await seedClusters("busy", 3);
    await countStart(ids.slice(0, 2));
    const before = await db.rollout.count();
    await expect(countStart(ids)).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await db.rollout.count()).toBe(before);
  });

  it("refuses a disabled connection, a pending debug level and an unknown profile, naming them, and records nothing", async () => {
    const [off, debugged, fine] = await seedClusters("check", 3);
    await db.clusterConnection.update({ where: { clusterId: off! }, data: { enabled: false } });
    const now = new Date();
    await db.debugLevel.create({
      data: {
        clusterId: debugged!,
        namespace: "tapfleet-sensor",
        daemonSetName: `sensor-${debugged}`,
        container: "capture",
        level: 3,
        setAt: now,
        setBy: "admin",
        revertsAt: new Date(now.getTime() + 60_000),
        status: "active",
        updatedAt: now,
      },
    });
    const before = await db.rollout.count();
    await expect(countStart([fine!, off!])).rejects.toMatchObject({
      code: "CONFLICT",
      userMessage: `no enabled Kubernetes connection for ${off}: connect it first`,
    });
    await expect(countStart([fine!, debugged!])).rejects.toMatchObject({
      code: "CONFLICT",
      userMessage: `a debug level is set on ${debugged}: revert it before rolling out`,
    });
    const unknownProfile = "00000000-0000-4000-8000-00000000abcd";
    await expect(
      startRollout({
        db,
        bus,
        actor,
        input: ZStartRolloutSchema.parse({ profileId: unknownProfile, revision: 1, clusterIds: [fine!] }),
      }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", field: "profileId" });
    expect(await db.rollout.count()).toBe(before);
  });
});

describe("a transaction that finds the pool busy", () => {
  it("waits for a connection (a start, the inventory's round) instead of failing at Prisma's 2 s", async () => {
    const clusterIds = await seedClusters("queued", 2);
    // A pool of one connection, held for 3 s by another transaction.
    const single = createDb({ url: database.url, maxConnections: 1 });
    try {
      let held!: () => void;
      const holding = new Promise<void>((resolve) => (held = resolve));
      const holder = single.$transaction(
        async (tx) => {
          held();
          await tx.$executeRaw`SELECT pg_sleep(3)`;
        },
        { timeout: 10_000 },
      );
      await holding;
      const started = Date.now();
      const [view] = await Promise.all([
        startRollout({
          db: single,
          bus,
          actor,
          input: ZStartRolloutSchema.parse({ profileId, revision: 1, clusterIds }),
        }),
        markInventoryStale({ db: single }),
        holder,
      ]);
      expect(view.clusters).toHaveLength(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    } finally {
      await single.$disconnect();
    }
  }, 30_000);
});
