// URL → route. Resource paths follow the API server's layout:
//   /api/v1/<resource>[/<name>[/<subresource>]]
//   /api/v1/namespaces/<ns>/<resource>[/<name>[/<subresource>]]
//   /apis/<group>/<version>/...           (same shapes)
//   /api/v1/watch/...                      (legacy watch prefix)
// `/api/v1/namespaces/<name>` is the namespace object itself.

import type { ResourceInfo } from "../resources.ts";

export type Route =
  | { type: "version" }
  | { type: "health"; check: string }
  | { type: "api" }
  | { type: "apis" }
  | { type: "group"; group: string }
  | { type: "groupVersion"; group: string; version: string }
  | { type: "openapiIndex" }
  | { type: "openapiDocument"; group: string; version: string }
  | { type: "openapiV2" }
  | {
      type: "resource";
      info: ResourceInfo;
      namespace: string | undefined;
      name: string | undefined;
      subresource: string | undefined;
      legacyWatch: boolean;
    }
  /** A path under /api or /apis naming nothing served: a Status 404. */
  | { type: "apiNotFound" }
  /** Any other path: the plain-text 404 of the API server's mux. */
  | { type: "notFound" };

export function parseRoute(pathname: string, resources: readonly ResourceInfo[]): Route {
  const segments = pathname
    .split("/")
    .filter((s) => s.length > 0)
    .map(decodeURIComponent);
  const [first, ...rest] = segments;
  switch (first) {
    case "version":
      return rest.length === 0 ? { type: "version" } : { type: "notFound" };
    case "healthz":
    case "livez":
    case "readyz":
      return { type: "health", check: first };
    case "openapi":
      if (rest[0] === "v2" && rest.length === 1) return { type: "openapiV2" };
      if (rest[0] !== "v3") return { type: "notFound" };
      if (rest.length === 1) return { type: "openapiIndex" };
      if (rest[1] === "api" && rest.length === 3)
        return { type: "openapiDocument", group: "", version: rest[2]! };
      if (rest[1] === "apis" && rest.length === 4)
        return { type: "openapiDocument", group: rest[2]!, version: rest[3]! };
      return { type: "notFound" };
    case "api": {
      if (rest.length === 0) return { type: "api" };
      const [version, ...tail] = rest;
      if (tail.length === 0) return { type: "groupVersion", group: "", version: version! };
      return resourceRoute(resources, "", version!, tail);
    }
    case "apis": {
      if (rest.length === 0) return { type: "apis" };
      const [group, version, ...tail] = rest;
      if (version === undefined) return { type: "group", group: group! };
      if (tail.length === 0) return { type: "groupVersion", group: group!, version };
      return resourceRoute(resources, group!, version, tail);
    }
    default:
      return { type: "notFound" };
  }
}

function resourceRoute(
  resources: readonly ResourceInfo[],
  group: string,
  version: string,
  tail: string[],
): Route {
  let legacyWatch = false;
  if (tail[0] === "watch") {
    legacyWatch = true;
    tail = tail.slice(1);
  }
  const find = (plural: string | undefined): ResourceInfo | undefined =>
    resources.find((r) => r.group === group && r.version === version && r.plural === plural);

  if (tail[0] === "namespaces" && tail.length >= 3) {
    const info = find(tail[2]);
    if (info?.namespaced) {
      if (tail.length > 5) return { type: "apiNotFound" };
      return { type: "resource", info, namespace: tail[1], name: tail[3], subresource: tail[4], legacyWatch };
    }
  }
  const info = find(tail[0]);
  if (!info || tail.length > 3) return { type: "apiNotFound" };
  // A namespaced resource named without a namespace is only a cross-namespace list or watch.
  if (info.namespaced && tail.length > 1) return { type: "apiNotFound" };
  return { type: "resource", info, namespace: undefined, name: tail[1], subresource: tail[2], legacyWatch };
}
