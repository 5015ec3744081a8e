// Merging what the API server says into the client's store, as pure functions:
// each returns the changes to make (decide), and `applyStoreChanges` makes them
// (apply). The store itself stays a mutable Map because copying 100,000 pods on
// every event is not an option; everything that decides is pure and tested.

import { isDeepStrictEqual } from "node:util";

/** Every trimmed object keeps the server's resourceVersion, compared for equality only. */
export interface Versioned {
  resourceVersion: string;
}

export type StoreChange<T> =
  | { type: "added"; key: string; object: T }
  | { type: "updated"; key: string; object: T; previous: T }
  | { type: "deleted"; key: string; object: T };

/**
 * One watch event. `object` is the trimmed object, or undefined when the object is
 * not one we keep (a DaemonSet that is no longer a sensor's is then deleted from the store).
 */
export interface KeyedWatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED";
  key: string;
  object: T | undefined;
}

/** The changes one watch event makes. A replayed event (same resourceVersion) changes nothing. */
export function planWatchEvent<T extends Versioned>(
  store: ReadonlyMap<string, T>,
  event: KeyedWatchEvent<T>,
): StoreChange<T>[] {
  const previous = store.get(event.key);
  if (event.type === "DELETED" || event.object === undefined) {
    return previous ? [{ type: "deleted", key: event.key, object: previous }] : [];
  }
  if (!previous) return [{ type: "added", key: event.key, object: event.object }];
  if (previous.resourceVersion === event.object.resourceVersion) return [];
  return [{ type: "updated", key: event.key, object: event.object, previous }];
}

/**
 * The changes a fresh list makes: consumers see only the difference (added, updated,
 * deleted while we were not watching), never a reset of everything.
 */
export function planRelist<T extends Versioned>(
  store: ReadonlyMap<string, T>,
  listed: ReadonlyMap<string, T>,
): StoreChange<T>[] {
  const changes: StoreChange<T>[] = [];
  for (const [key, previous] of store) {
    if (!listed.has(key)) changes.push({ type: "deleted", key, object: previous });
  }
  for (const [key, object] of listed) {
    const previous = store.get(key);
    if (!previous) changes.push({ type: "added", key, object });
    else if (previous.resourceVersion !== object.resourceVersion)
      changes.push({ type: "updated", key, object, previous });
  }
  return changes;
}

/** Makes the planned changes. */
export function applyStoreChanges<T>(store: Map<string, T>, changes: readonly StoreChange<T>[]): void {
  for (const change of changes) {
    if (change.type === "deleted") store.delete(change.key);
    else store.set(change.key, change.object);
  }
}

/**
 * Whether an update changed nothing but the resourceVersion in what we keep: a
 * kubelet's periodic status post moves only heartbeat times, which trimming drops.
 */
export function versionOnlyChange<T extends Versioned>(previous: T, object: T): boolean {
  return isDeepStrictEqual({ ...previous, resourceVersion: "" }, { ...object, resourceVersion: "" });
}
