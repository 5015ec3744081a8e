// The nodes tables' filters and sort live in the URL (?cluster=…&state=…&q=…&sort=…&order=…) so a
// link shows the same rows in the same order. Values the API does not know are reported, not
// silently dropped, so the page can say what it ignored.
import type { RouterInputs, RouterOutputs } from "@/lib/trpc";
import { isCoverageState, type CoverageState } from "../fleet/coverage-states";

type NodesInput = RouterInputs["inventory"]["fleetNodes"];
type NodesPage = RouterOutputs["inventory"]["fleetNodes"];
export type NodeSort = NonNullable<NodesInput["sort"]>;
export type SortOrder = NonNullable<NodesInput["order"]>;

/** Keyed by every sort the API takes: the type checker refuses a missing or unknown one. */
const SORT_LABELS: Record<NodeSort, string> = {
  node: "node name",
  state: "state, problems first",
  since: "since",
  cluster: "cluster",
};
export const NODE_SORTS = Object.keys(SORT_LABELS) as NodeSort[];
export const DEFAULT_SORT: { sort: NodeSort; order: SortOrder } = { sort: "node", order: "asc" };

export function isNodeSort(value: unknown): value is NodeSort {
  return typeof value === "string" && Object.hasOwn(SORT_LABELS, value);
}

/** How the table says what it is sorted by: "by state, problems first", "by since, newest first". */
export function describeSort(sort: NodeSort, order: SortOrder): string {
  if (sort === "state") return order === "asc" ? "by state, problems first" : "by state, problems last";
  if (sort === "since") return order === "asc" ? "by since, oldest first" : "by since, newest first";
  return `by ${SORT_LABELS[sort]}${order === "desc" ? ", Z to A" : ""}`;
}

export interface NodeFilters {
  /** The clusters to show; undefined for every cluster (or the one page's cluster). */
  clusters?: string[] | undefined;
  state: CoverageState | undefined;
  search: string | undefined;
  sort?: NodeSort | undefined;
  order?: SortOrder | undefined;
}

/** The longest search the API takes (a Kubernetes object name). */
export const MAX_NODE_SEARCH = 253;

/** A parameter of the URL that names something the API does not know. */
export interface InvalidParameter {
  name: "state" | "sort" | "order";
  value: string;
}

export interface ParsedNodeFilters extends NodeFilters {
  sort: NodeSort;
  order: SortOrder;
  /** What the URL asked for that does not exist (and is not applied). */
  invalid: InvalidParameter[];
}

/** The filters a URL asks for, with what it asked for that does not exist. */
export function parseNodeFilters(params: URLSearchParams): ParsedNodeFilters {
  const invalid: InvalidParameter[] = [];
  const rawState = params.get("state");
  const state = isCoverageState(rawState) ? rawState : undefined;
  if (rawState !== null && state === undefined) invalid.push({ name: "state", value: rawState });
  const rawSort = params.get("sort");
  const sort = isNodeSort(rawSort) ? rawSort : DEFAULT_SORT.sort;
  if (rawSort !== null && !isNodeSort(rawSort)) invalid.push({ name: "sort", value: rawSort });
  const rawOrder = params.get("order");
  const order = rawOrder === "asc" || rawOrder === "desc" ? rawOrder : DEFAULT_SORT.order;
  if (rawOrder !== null && order !== rawOrder) invalid.push({ name: "order", value: rawOrder });
  const clusters = [...new Set(params.getAll("cluster").filter((id) => id.trim() !== ""))];
  return {
    clusters: clusters.length > 0 ? clusters : undefined,
    state,
    search: params.get("q")?.trim().slice(0, MAX_NODE_SEARCH) || undefined,
    sort,
    order,
    invalid,
  };
}

/** The query string for some filters, other parameters kept and defaults left out; "" when there is none. */
export function formatNodeFilters(
  filters: NodeFilters,
  base: URLSearchParams = new URLSearchParams(),
): string {
  const params = new URLSearchParams(base);
  for (const name of ["cluster", "state", "q", "sort", "order"]) params.delete(name);
  for (const cluster of filters.clusters ?? []) params.append("cluster", cluster);
  if (filters.state) params.set("state", filters.state);
  if (filters.search?.trim()) params.set("q", filters.search.trim());
  const sort = filters.sort ?? DEFAULT_SORT.sort;
  const order = filters.order ?? DEFAULT_SORT.order;
  if (sort !== DEFAULT_SORT.sort || order !== DEFAULT_SORT.order) {
    params.set("sort", sort);
    params.set("order", order);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * The sort after a click on a column's header: the other direction of the current column, or the
 * new column from its natural start (state: problems first; since: newest first; names: A to Z).
 */
export function nextSort(
  current: { sort: NodeSort; order: SortOrder },
  clicked: NodeSort,
): { sort: NodeSort; order: SortOrder } {
  if (current.sort === clicked) return { sort: clicked, order: current.order === "asc" ? "desc" : "asc" };
  return { sort: clicked, order: clicked === "since" ? "desc" : "asc" };
}

/** How many rows a nodes table reads at a time. */
export const NODES_PAGE_SIZE = 50;

/** Where the next page of a nodes table starts (the keyset cursor), if there is one. */
export const nextNodesCursor = (last: NodesPage) => last.nextCursor ?? undefined;

/** What a nodes table shows: its filters, the clusters it reads and what the link named that does not exist. */
export interface NodesTableScope {
  parsed: ParsedNodeFilters;
  /** The fleet's table: the clusters the link names that exist (what the cluster filter shows). */
  requested: string[];
  /** The fleet's table: the clusters the link names that Tapfleet does not know. */
  unknownClusters: string[];
  /** The clusters read: the cluster page's one, the link's known ones, or undefined for every cluster. */
  scope: string[] | undefined;
  /** The input of `inventory.fleetNodes`: the same on the server's render and in the browser (one query key). */
  input: NodesInput;
}

/**
 * A nodes table's scope from its URL: the cluster page's table (`clusterId`) reads that cluster;
 * the fleet's reads the link's clusters that exist in `knownClusterIds` (every cluster when the
 * link names none, or none of those it names exist).
 */
export function resolveNodesTableScope(options: {
  params: URLSearchParams;
  clusterId?: string | undefined;
  knownClusterIds?: string[] | undefined;
}): NodesTableScope {
  const parsed = parseNodeFilters(options.params);
  const fleet = options.clusterId === undefined;
  const known = options.knownClusterIds ? new Set(options.knownClusterIds) : null;
  const unknownClusters = fleet && known ? (parsed.clusters ?? []).filter((id) => !known.has(id)) : [];
  const requested = fleet ? (parsed.clusters ?? []).filter((id) => !unknownClusters.includes(id)) : [];
  const scope =
    options.clusterId === undefined ? (requested.length > 0 ? requested : undefined) : [options.clusterId];
  return {
    parsed,
    requested,
    unknownClusters,
    scope,
    input: {
      cluster: scope,
      state: parsed.state,
      search: parsed.search,
      sort: parsed.sort,
      order: parsed.order,
      limit: NODES_PAGE_SIZE,
    },
  };
}
