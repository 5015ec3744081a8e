// Merging the live inventory stream into the loaded pages of a nodes table: a pure function,
// so what a change does to the rows on screen is tested without a browser.
import type { InfiniteData } from "@tanstack/react-query";
import type { RouterOutputs } from "@/lib/trpc";
import { COVERAGE_STATE_ORDER } from "../fleet/coverage-states";
import { DEFAULT_SORT, type NodeFilters } from "./node-filters";

type NodesPage = RouterOutputs["inventory"]["fleetNodes"];
export type NodeItem = NodesPage["items"][number];

/** What the stream sends (inventory.live), as far as the table needs it. */
export type InventoryEvent =
  | {
      type: "node";
      node: Omit<NodeItem, "sensor" | "updatedAt"> & { sensorId: string | null };
    }
  | {
      type: "node-removed";
      clusterId: string;
      nodeName: string;
      daemonSet: { namespace: string; name: string };
    }
  | { type: "cluster"; clusterId: string }
  | { type: "resync"; clusterId: string }
  | { type: "cluster-removed"; clusterId: string };

type RowIdentity = { clusterId: string; nodeName: string; daemonSet: { namespace: string; name: string } };

const sameRow = (a: RowIdentity, b: RowIdentity) =>
  a.clusterId === b.clusterId &&
  a.nodeName === b.nodeName &&
  a.daemonSet.namespace === b.daemonSet.namespace &&
  a.daemonSet.name === b.daemonSet.name;

function matches(
  node: { clusterId: string; state: string; nodeName: string; podName: string | null },
  filters: NodeFilters,
): boolean {
  if (filters.clusters && !filters.clusters.includes(node.clusterId)) return false;
  if (filters.state && node.state !== filters.state) return false;
  if (filters.search) {
    const needle = filters.search.toLowerCase();
    return (
      node.nodeName.toLowerCase().includes(needle) || (node.podName ?? "").toLowerCase().includes(needle)
    );
  }
  return true;
}

type SortedFields = RowIdentity & { state: NodeItem["state"]; since: string };

/** The row's place in the table's order, as the server sorts: the sort column, then the row's key. */
function sortKey(row: SortedFields, sort: NonNullable<NodeFilters["sort"]>): (string | number)[] {
  const key = [row.clusterId, row.nodeName, row.daemonSet.namespace, row.daemonSet.name];
  if (sort === "node") return [row.nodeName, ...key];
  if (sort === "state") return [COVERAGE_STATE_ORDER.indexOf(row.state), ...key];
  if (sort === "since") return [row.since, ...key];
  return key;
}

function compareKeys(a: (string | number)[], b: (string | number)[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
}

function mapItems(
  data: InfiniteData<NodesPage>,
  change: (items: NodeItem[]) => NodeItem[],
): InfiniteData<NodesPage> {
  return { ...data, pages: data.pages.map((page) => ({ ...page, items: change(page.items) })) };
}

/**
 * The pages after one live event: a row changed in place (or dropped when it no longer matches
 * the filters), a removed row dropped; the same object when the event changes nothing shown;
 * null when the pages must be read again (a row that now matches within the loaded range, a row
 * whose place in the sort order moved, another sensor on a node, a resync).
 *
 * A row that sorts after the last loaded one while more pages remain is left to the page that
 * will hold it: a fleet of 100,000 nodes changes somewhere all the time, and reading the loaded
 * pages again for each change out of sight would keep the table busy for nothing. The comparison
 * is by code unit; the database's collation can differ for names with punctuation, which at
 * worst shows such a row at the next reading instead of at once.
 */
export function applyNodeEvent(
  data: InfiniteData<NodesPage>,
  event: InventoryEvent,
  filters: NodeFilters,
): InfiniteData<NodesPage> | null {
  const inScope = (clusterId: string) => !filters.clusters || filters.clusters.includes(clusterId);
  if (event.type === "cluster") return data;
  if (event.type !== "node" && !inScope(event.clusterId)) return data;
  if (event.type === "resync" || event.type === "cluster-removed") return null;
  if (event.type === "node-removed") {
    const present = data.pages.some((page) => page.items.some((item) => sameRow(item, event)));
    return present ? mapItems(data, (items) => items.filter((item) => !sameRow(item, event))) : data;
  }
  const { node } = event;
  if (!inScope(node.clusterId)) return data;
  const sort = filters.sort ?? DEFAULT_SORT.sort;
  const descending = (filters.order ?? DEFAULT_SORT.order) === "desc";
  const loaded = data.pages.flatMap((page) => page.items);
  const known = loaded.find((item) => sameRow(item, node));
  if (!known) {
    if (!matches(node, filters)) return data;
    const last = loaded.at(-1);
    const more = data.pages.at(-1)?.nextCursor != null;
    if (more && last) {
      const order = compareKeys(sortKey(node, sort), sortKey(last, sort));
      if (descending ? order < 0 : order > 0) return data;
    }
    return null;
  }
  if (!matches(node, filters)) return mapItems(data, (items) => items.filter((item) => !sameRow(item, node)));
  if ((known.sensor?.id ?? null) !== node.sensorId) return null;
  if (compareKeys(sortKey(node, sort), sortKey(known, sort)) !== 0) return null;
  const { sensorId: _sensorId, ...fields } = node;
  const updated: NodeItem = { ...known, ...fields };
  return mapItems(data, (items) => items.map((item) => (sameRow(item, node) ? updated : item)));
}
