import { describe, expect, it } from "vitest";
import { RESOURCES } from "../resources.ts";
import { parseRoute } from "./router.ts";

const summary = (path: string): unknown => {
  const route = parseRoute(path, RESOURCES);
  return route.type === "resource"
    ? [route.info.plural, route.namespace, route.name, route.subresource, route.legacyWatch]
    : route.type;
};

describe("parseRoute", () => {
  it.each([
    ["/api/v1/nodes", ["nodes", undefined, undefined, undefined, false]],
    ["/api/v1/nodes/n1/status", ["nodes", undefined, "n1", "status", false]],
    ["/api/v1/namespaces", ["namespaces", undefined, undefined, undefined, false]],
    ["/api/v1/namespaces/default", ["namespaces", undefined, "default", undefined, false]],
    ["/api/v1/namespaces/default/pods", ["pods", "default", undefined, undefined, false]],
    ["/api/v1/namespaces/default/pods/p/log", ["pods", "default", "p", "log", false]],
    ["/api/v1/pods", ["pods", undefined, undefined, undefined, false]],
    ["/api/v1/watch/namespaces/default/pods", ["pods", "default", undefined, undefined, true]],
    ["/apis/apps/v1/namespaces/x/daemonsets/ds", ["daemonsets", "x", "ds", undefined, false]],
    ["/apis/apps/v1/daemonsets", ["daemonsets", undefined, undefined, undefined, false]],
    ["/apis/apps/v1/daemonsets/x", "apiNotFound"],
    ["/api/v1/foos", "apiNotFound"],
    ["/apis/apps/v1/namespaces/x/daemonsets/ds/status/extra", "apiNotFound"],
    ["/apis/apps/v1", "groupVersion"],
    ["/apis/apps", "group"],
    ["/openapi/v3/apis/apps/v1", "openapiDocument"],
    ["/openapi/v2", "openapiV2"],
    ["/version", "version"],
    ["/nope", "notFound"],
  ])("%s", (path, expected) => {
    expect(summary(path)).toEqual(expected);
  });
});
