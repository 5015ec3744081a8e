import { describe, expect, it } from "vitest";
import { fullJitterDelay } from "./backoff.ts";
import { ReportOutbox, type SendOutcome } from "./report-outbox.ts";

describe("ReportOutbox", () => {
  it("resends in order after failures, backing off with full jitter", async () => {
    const delivered: number[] = [];
    const delays: number[] = [];
    let failures = 3;
    const outbox = new ReportOutbox({
      maxReports: 10,
      backoffBaseMs: 100,
      backoffCapMs: 1000,
      random: () => 0.5,
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
      send: (_body, sequence): Promise<SendOutcome> => {
        if (failures > 0) {
          failures--;
          return Promise.resolve("retry");
        }
        delivered.push(sequence);
        return Promise.resolve("sent");
      },
    });
    for (let sequence = 0; sequence < 4; sequence++) outbox.enqueue(sequence, `report ${sequence}`);
    expect(await outbox.flush(1000)).toBe(0);
    expect(delivered).toEqual([0, 1, 2, 3]);
    expect(delays).toEqual([50, 100, 200]);
  });

  it("drops the oldest report when full, and counts it", async () => {
    const dropped: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const delivered: number[] = [];
    const outbox = new ReportOutbox({
      maxReports: 3,
      backoffBaseMs: 1,
      backoffCapMs: 1,
      onDropped: (sequence) => dropped.push(sequence),
      send: async (_body, sequence) => {
        await gate;
        delivered.push(sequence);
        return "sent";
      },
    });
    for (let sequence = 0; sequence < 6; sequence++) outbox.enqueue(sequence, "");
    release();
    await outbox.flush(1000);
    expect(dropped).toEqual([0, 1, 2]);
    expect(outbox.droppedFull).toBe(3);
    // #0 was already on the wire when it was dropped from the queue; it is delivered, not sent twice.
    expect(delivered).toEqual([0, 3, 4, 5]);
  });

  it("gives up on a report the server rejects and goes on with the next", async () => {
    const outbox = new ReportOutbox({
      maxReports: 5,
      backoffBaseMs: 1,
      backoffCapMs: 1,
      send: (_body, sequence) => Promise.resolve(sequence === 1 ? "rejected" : "sent"),
    });
    for (let sequence = 0; sequence < 3; sequence++) outbox.enqueue(sequence, "");
    await outbox.flush(1000);
    expect([outbox.sent, outbox.droppedRejected]).toEqual([2, 1]);
  });
});

describe("fullJitterDelay", () => {
  it("stays within [0, min(cap, base·2^attempt)]", () => {
    expect(fullJitterDelay(0, { baseMs: 1000, capMs: 30_000, random: () => 0.999 })).toBe(999);
    expect(fullJitterDelay(3, { baseMs: 1000, capMs: 30_000, random: () => 0.5 })).toBe(4000);
    expect(fullJitterDelay(20, { baseMs: 1000, capMs: 30_000, random: () => 0.999 })).toBe(29_970);
    expect(fullJitterDelay(5, { baseMs: 1000, capMs: 30_000, random: () => 0 })).toBe(0);
  });
});
