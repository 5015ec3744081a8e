// Merging the live inventory stream into the loaded pages of the nodes table: a pure function,
// so what a change does to the rows on screen is tested without a browser.
import type { InfiniteData } from "@tanstack/react-query";
import type { RouterOutputs } from "@/lib/trpc";
import type { NodeFilters } from "./node-filters";

type NodesPage = RouterOutputs["inventory"]["nodes"];
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

const sameRow = (
  a: { nodeName: string; daemonSet: { namespace: string; name: string } },
  b: { nodeName: string; daemonSet: { namespace: string; name: string } },
) =>
  a.nodeName === b.nodeName &&
  a.daemonSet.namespace === b.daemonSet.namespace &&
  a.daemonSet.name === b.daemonSet.name;

function matches(
  node: { state: string; nodeName: string; podName: string | null },
  filters: NodeFilters,
): boolean {
  if (filters.state && node.state !== filters.state) return false;
  if (filters.search) {
    const needle = filters.search.toLowerCase();
    return (
      node.nodeName.toLowerCase().includes(needle) || (node.podName ?? "").toLowerCase().includes(needle)
    );
  }
  return true;
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
 * null when the pages must be read again (a row that now matches and is not loaded, another
 * sensor on a node, a resync).
 */
export function applyNodeEvent(
  data: InfiniteData<NodesPage>,
  event: InventoryEvent,
  filters: NodeFilters,
  clusterId: string,
): InfiniteData<NodesPage> | null {
  if (event.type === "cluster") return data;
  if (event.type !== "node" && event.clusterId !== clusterId) return data;
  if (event.type === "resync" || event.type === "cluster-removed") return null;
  if (event.type === "node-removed") {
    const present = data.pages.some((page) => page.items.some((item) => sameRow(item, event)));
    return present ? mapItems(data, (items) => items.filter((item) => !sameRow(item, event))) : data;
  }
  const { node } = event;
  if (node.clusterId !== clusterId) return data;
  const known = data.pages.flatMap((page) => page.items).find((item) => sameRow(item, node));
  if (!known) return matches(node, filters) ? null : data;
  if (!matches(node, filters)) return mapItems(data, (items) => items.filter((item) => !sameRow(item, node)));
  if ((known.sensor?.id ?? null) !== node.sensorId) return null;
  const { sensorId: _sensorId, ...fields } = node;
  const updated: NodeItem = { ...known, ...fields };
  return mapItems(data, (items) => items.map((item) => (sameRow(item, node) ? updated : item)));
}
