import { describe, expect, it } from "vitest";
import {
  applyStoreChanges,
  planRelist,
  planWatchEvent,
  versionOnlyChange,
  type StoreChange,
} from "./reducer.ts";

interface Item {
  resourceVersion: string;
  value: string;
}
const item = (resourceVersion: string, value = resourceVersion): Item => ({ resourceVersion, value });
const storeOf = (entries: Record<string, Item>): Map<string, Item> => new Map(Object.entries(entries));

describe("planWatchEvent", () => {
  const cases: Array<{
    name: string;
    store: Record<string, Item>;
    event: { type: "ADDED" | "MODIFIED" | "DELETED"; key: string; object: Item | undefined };
    changes: Array<StoreChange<Item>["type"]>;
  }> = [
    {
      name: "ADDED of a new key adds",
      store: {},
      event: { type: "ADDED", key: "a", object: item("1") },
      changes: ["added"],
    },
    {
      name: "MODIFIED of an unknown key adds",
      store: {},
      event: { type: "MODIFIED", key: "a", object: item("1") },
      changes: ["added"],
    },
    {
      name: "ADDED of a known key updates",
      store: { a: item("1") },
      event: { type: "ADDED", key: "a", object: item("2") },
      changes: ["updated"],
    },
    {
      name: "MODIFIED with a new version updates",
      store: { a: item("1") },
      event: { type: "MODIFIED", key: "a", object: item("2") },
      changes: ["updated"],
    },
    {
      name: "a replayed event changes nothing",
      store: { a: item("2") },
      event: { type: "MODIFIED", key: "a", object: item("2") },
      changes: [],
    },
    {
      name: "DELETED of a known key deletes",
      store: { a: item("1") },
      event: { type: "DELETED", key: "a", object: item("2") },
      changes: ["deleted"],
    },
    {
      name: "DELETED of an unknown key changes nothing",
      store: {},
      event: { type: "DELETED", key: "a", object: item("2") },
      changes: [],
    },
    {
      name: "an object we no longer keep is deleted",
      store: { a: item("1") },
      event: { type: "MODIFIED", key: "a", object: undefined },
      changes: ["deleted"],
    },
    {
      name: "an object we never kept is ignored",
      store: {},
      event: { type: "ADDED", key: "a", object: undefined },
      changes: [],
    },
  ];
  it.each(cases)("$name", ({ store, event, changes }) => {
    expect(planWatchEvent(storeOf(store), event).map((c) => c.type)).toEqual(changes);
  });

  it("an update carries the previous object, a delete the stored one", () => {
    const store = storeOf({ a: item("1", "old") });
    expect(planWatchEvent(store, { type: "MODIFIED", key: "a", object: item("2", "new") })).toEqual([
      { type: "updated", key: "a", object: item("2", "new"), previous: item("1", "old") },
    ]);
    expect(planWatchEvent(store, { type: "DELETED", key: "a", object: item("3", "final") })).toEqual([
      { type: "deleted", key: "a", object: item("1", "old") },
    ]);
  });
});

describe("planRelist", () => {
  it("reports only the difference with the store", () => {
    const store = storeOf({ kept: item("1"), changed: item("1"), gone: item("1") });
    const listed = storeOf({ kept: item("1"), changed: item("5"), fresh: item("6") });
    const changes = planRelist(store, listed);
    expect(changes.map((c) => [c.type, c.key]).sort()).toEqual([
      ["added", "fresh"],
      ["deleted", "gone"],
      ["updated", "changed"],
    ]);
    applyStoreChanges(store, changes);
    expect(store).toEqual(listed);
  });

  it("an empty list empties the store", () => {
    const store = storeOf({ a: item("1"), b: item("2") });
    applyStoreChanges(store, planRelist(store, new Map()));
    expect(store.size).toBe(0);
  });
});

describe("versionOnlyChange", () => {
  const node = (resourceVersion: string, taints: string[]) => ({
    resourceVersion,
    labels: { zone: "a" },
    taints: taints.map((key) => ({ key, effect: "NoSchedule" })),
  });
  it("is true when only the resourceVersion moved", () => {
    expect(versionOnlyChange(node("1", ["x"]), node("2", ["x"]))).toBe(true);
  });
  it("is false when anything kept changed, however deep", () => {
    expect(versionOnlyChange(node("1", ["x"]), node("2", ["y"]))).toBe(false);
    expect(versionOnlyChange(node("1", []), node("2", ["x"]))).toBe(false);
  });
});
