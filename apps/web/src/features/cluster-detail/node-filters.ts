// The nodes table's filters live in the URL (?state=…&q=…) so a link shows the same rows.
import { isCoverageState, type CoverageState } from "../fleet/coverage-states";

export interface NodeFilters {
  state: CoverageState | undefined;
  search: string | undefined;
}

/** The longest search the API takes (a Kubernetes object name). */
export const MAX_NODE_SEARCH = 253;

/**
 * The filters a URL asks for. An unknown state is reported rather than ignored, so the page can
 * say so instead of silently showing every row.
 */
export function parseNodeFilters(params: URLSearchParams): NodeFilters & { invalidState: string | null } {
  const rawState = params.get("state");
  const state = isCoverageState(rawState) ? rawState : undefined;
  const search = params.get("q")?.trim().slice(0, MAX_NODE_SEARCH) || undefined;
  return { state, search, invalidState: rawState !== null && state === undefined ? rawState : null };
}

/** The query string for some filters, other parameters kept; "" when there is none. */
export function formatNodeFilters(
  filters: NodeFilters,
  base: URLSearchParams = new URLSearchParams(),
): string {
  const params = new URLSearchParams(base);
  params.delete("state");
  params.delete("q");
  if (filters.state) params.set("state", filters.state);
  if (filters.search?.trim()) params.set("q", filters.search.trim());
  const text = params.toString();
  return text ? `?${text}` : "";
}
