import { createDb, type Db } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { purgeExpiredNonces } from "./nonces.ts";

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ url: database.url, maxConnections: 2 });
});
afterAll(async () => {
  await db?.$disconnect();
  await database?.stop();
});

describe("purgeExpiredNonces", () => {
  it("deletes the nonces that expired before now and keeps the others", async () => {
    const now = new Date("2026-03-01T12:00:00Z");
    await db.ingestNonce.createMany({
      data: [
        { keyId: "k1", nonce: "old", expiresAt: new Date(now.getTime() - 1) },
        { keyId: "k1", nonce: "now", expiresAt: now },
        { keyId: "k2", nonce: "later", expiresAt: new Date(now.getTime() + 60_000) },
      ],
    });
    expect(await purgeExpiredNonces({ db, now })).toBe(1);
    const left = await db.ingestNonce.findMany({ orderBy: { nonce: "asc" } });
    expect(left.map((n) => n.nonce)).toEqual(["later", "now"]);
    expect(await purgeExpiredNonces({ db, now })).toBe(0);
  });
});
