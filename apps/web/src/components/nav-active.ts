/**
 * The sidebar entry a page belongs to: the entry whose address is the longest prefix of the
 * page's path. A node's page lives at /clusters/<id>/nodes/<node> but is a node, so it belongs to
 * Nodes (its breadcrumb reads Nodes › cluster › node) whether it was opened from the Nodes page or
 * from its cluster's table: one answer per address, so a shared link shows the same page.
 */
export function activeNavHref(pathname: string, hrefs: readonly string[]): string | undefined {
  const path = /^\/clusters\/[^/]+\/nodes(\/|$)/.test(pathname) ? "/nodes" : pathname;
  let best: string | undefined;
  for (const href of hrefs)
    if ((path === href || path.startsWith(`${href}/`)) && href.length > (best?.length ?? -1)) best = href;
  return best;
}
