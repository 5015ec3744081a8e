import { describe, expect, it } from "vitest";
import { applyLiveAuditEvent, type LiveAuditEvent } from "./apply-live-audit-event";

function event(id: number, overrides: Partial<LiveAuditEvent["data"]> = {}): LiveAuditEvent["data"] {
  return {
    id: String(id),
    at: `2026-11-22T12:00:${String(id % 60).padStart(2, "0")}Z`,
    actorType: "user",
    actorName: "admin",
    action: "users.create",
    target: null,
    targetName: null,
    ip: "127.0.0.1",
    outcome: "success",
    errorCode: null,
    message: null,
    changes: [],
    detail: null,
    ...overrides,
  };
}

const live = (data: LiveAuditEvent["data"]): LiveAuditEvent => ({ id: data.id, data });
const ids = (page: { items: { id: string }[] } | null) => page?.items.map((item) => item.id);
const firstPage = { cursor: undefined, limit: 3 };

describe("applyLiveAuditEvent", () => {
  it("puts a new event at the top of the first page", () => {
    const page = { items: [event(2), event(1)], nextCursor: null };
    expect(ids(applyLiveAuditEvent(firstPage)(page, live(event(3))))).toEqual(["3", "2", "1"]);
  });

  it("keeps the page newest first when events arrive out of order, comparing ids beyond 2^53", () => {
    const big = 9_007_199_254_740_993n;
    const page = {
      items: [event(0, { id: String(big + 2n) }), event(0, { id: String(big) })],
      nextCursor: null,
    };
    const merged = applyLiveAuditEvent(firstPage)(page, live(event(0, { id: String(big + 1n) })));
    expect(ids(merged)).toEqual([String(big + 2n), String(big + 1n), String(big)]);
  });

  it("ignores an event it already shows (a replay after reconnecting)", () => {
    const page = { items: [event(2), event(1)], nextCursor: null };
    expect(applyLiveAuditEvent(firstPage)(page, live(event(2)))).toBe(page);
  });

  it("keeps a full page to its size, and the event that falls off starts the next page", () => {
    const page = { items: [event(3), event(2), event(1)], nextCursor: null };
    const merged = applyLiveAuditEvent(firstPage)(page, live(event(4)));
    expect(ids(merged)).toEqual(["4", "3", "2"]);
    expect(merged?.nextCursor).toBe("2");
  });

  it("leaves a full page alone for an event older than all it holds", () => {
    const page = { items: [event(5), event(4), event(3)], nextCursor: "3" };
    expect(applyLiveAuditEvent(firstPage)(page, live(event(2)))).toBe(page);
  });

  it("leaves older pages as they were read", () => {
    const page = { items: [event(2), event(1)], nextCursor: null };
    expect(applyLiveAuditEvent({ cursor: "3", limit: 3 })(page, live(event(9)))).toBe(page);
  });

  it.each([
    ["another action", { action: "tokens.create" }, { action: "users.create" }],
    ["another actor", { actorName: "ci-token" }, { actor: "adm" }],
    ["another outcome", { outcome: "failure" as const }, { outcome: "success" as const }],
  ])("leaves out an event with %s than the filters ask for", (_what, overrides, filters) => {
    const page = { items: [event(1)], nextCursor: null };
    expect(applyLiveAuditEvent({ ...firstPage, ...filters })(page, live(event(2, overrides)))).toBe(page);
  });

  it("matches the actor filter as the server does: part of the name, in any case", () => {
    const page = { items: [event(1)], nextCursor: null };
    const merged = applyLiveAuditEvent({ ...firstPage, actor: "ADM", action: "users.create" })(
      page,
      live(event(2, { actorName: "Admin-2" })),
    );
    expect(ids(merged)).toEqual(["2", "1"]);
  });
});
