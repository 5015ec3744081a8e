// Consistent paginated lists: the first page of a `limit`ed list keeps the
// whole result (shared, frozen store objects, so it is cheap), and continue
// tokens page through that snapshot, as etcd serves later pages at the first
// page's revision. Snapshots expire like etcd compaction does (5 minutes) or
// when history is expired as a fault; an expired token is a 410.

import { randomUUID } from "node:crypto";
import type { KubeObject } from "../types.ts";

interface Snapshot {
  scope: string;
  items: KubeObject[];
  resourceVersion: string;
  createdAt: number;
}

export class ListSnapshots {
  private readonly snapshots = new Map<string, Snapshot>();

  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly maxSnapshots = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps a list result; returns the id continue tokens refer to. */
  save(scope: string, items: KubeObject[], resourceVersion: string): string {
    this.prune();
    const id = randomUUID();
    this.snapshots.set(id, { scope, items, resourceVersion, createdAt: this.now() });
    // Maps iterate in insertion order: the first key is the oldest snapshot.
    while (this.snapshots.size > this.maxSnapshots)
      this.snapshots.delete(this.snapshots.keys().next().value!);
    return id;
  }

  /** The snapshot, or undefined when it expired (or never existed). */
  load(id: string): Snapshot | undefined {
    this.prune();
    return this.snapshots.get(id);
  }

  /** Forgets every snapshot: all outstanding continue tokens become 410s. */
  clear(): void {
    this.snapshots.clear();
  }

  private prune(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [id, snapshot] of this.snapshots) {
      if (snapshot.createdAt >= oldest) break;
      this.snapshots.delete(id);
    }
  }
}
