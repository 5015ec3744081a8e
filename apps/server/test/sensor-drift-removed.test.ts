// The drift controller and a cluster that is gone: a check asked for a cluster
// it does not watch (removed with its connection, as a demo's clusters are when
// the demo stops) ends quietly instead of warning and asking again every few
// seconds for as long as the server runs. Real PostgreSQL and live bus.
import { createSecretBox, publishTopic, SENSOR_DRIFT_TOPIC } from "@tapfleet/core";
import { createDb, createLiveBus, type Db, type LiveBus } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { createManualClock } from "@tapfleet/kube-sim";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { createSensorDriftController } from "../src/controllers/sensor-drift.ts";

let database: TestDatabase;
let db: Db;
let bus: LiveBus;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, maxConnections: 2 });
  bus = await createLiveBus({ url: database.url });
});

afterAll(async () => {
  await bus?.close();
  await db?.$disconnect();
  await database?.stop();
});

it("does not warn about, or check again, a cluster it no longer watches", async () => {
  type Line = { level: number; msg: string; clusterId?: string };
  const lines: Line[] = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => void lines.push(JSON.parse(line) as Line) },
  );
  const clock = createManualClock();
  const controller = createSensorDriftController({
    db,
    bus,
    secrets: createSecretBox(Buffer.alloc(32, 7)),
    logger,
    clock,
    retryMs: 5_000,
  });
  const term = new AbortController();
  const running = controller.run(term.signal);
  try {
    // The check is asked for on the drift topic (as a removal's last announcement can); it is
    // asked again until the controller has subscribed and answered it one way or the other.
    const about = () => lines.filter((line) => line.clusterId === "gone");
    await waitFor(
      async () => {
        await publishTopic(bus, SENSOR_DRIFT_TOPIC, { type: "check", clusterId: "gone" });
        return about().length > 0 ? about() : undefined;
      },
      { what: "the controller's answer to a check of a removed cluster", timeoutMs: 15_000, intervalMs: 200 },
    );
    // Before the change: "checking sensor drift failed" at warn, and a retry every 5 s for good.
    expect(about().filter((line) => line.level >= 40)).toEqual([]);
    expect(about().map((line) => line.msg)).toContain(
      "sensor drift: the cluster is no longer watched; not checked again",
    );
  } finally {
    term.abort();
    await running;
  }
});
