// A minimal OpenAPI v3 surface. kubectl reads it only to learn that the server
// accepts `fieldValidation` on PATCH for a kind (then it validates server-side
// with `fieldValidation=Strict`); it builds strategic merge patches from its own
// compiled-in types when no schema for the kind is published, so no schemas are.

import { createHash } from "node:crypto";
import type { ResourceInfo } from "../resources.ts";
import { groupVersions } from "./discovery.ts";

function urlPrefix(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** The document for one group/version, or undefined when it is not served. */
export function openApiDocument(
  resources: readonly ResourceInfo[],
  group: string,
  version: string,
): object | undefined {
  const infos = resources.filter((info) => info.group === group && info.version === version);
  if (infos.length === 0) return undefined;
  const paths: Record<string, object> = {};
  for (const info of infos) {
    const base = `/${urlPrefix(group, version)}${info.namespaced ? "/namespaces/{namespace}" : ""}/${info.plural}`;
    paths[`${base}/{name}`] = itemPath(info);
    for (const sub of info.subresources)
      if (sub === "status") paths[`${base}/{name}/status`] = itemPath(info);
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.4" },
    paths,
    components: { schemas: {} },
  };
}

function itemPath(info: ResourceInfo): object {
  const gvk = { group: info.group, version: info.version, kind: info.kind };
  const query = (name: string, description: string): object => ({
    name,
    in: "query",
    description,
    schema: { type: "string", uniqueItems: true },
  });
  const operation = (action: string, params: object[]): object => ({
    description: `${action} the specified ${info.kind}`,
    operationId: `${action}${info.kind}`,
    parameters: params,
    responses: { "200": { description: "OK" }, "401": { description: "Unauthorized" } },
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": gvk,
  });
  return {
    parameters: [
      {
        name: "name",
        in: "path",
        description: `name of the ${info.kind}`,
        required: true,
        schema: { type: "string", uniqueItems: true },
      },
      ...(info.namespaced
        ? [
            {
              name: "namespace",
              in: "path",
              description: "object name and auth scope",
              required: true,
              schema: { type: "string", uniqueItems: true },
            },
          ]
        : []),
    ],
    get: operation("get", []),
    put: operation("put", [
      query("dryRun", "dry run"),
      query("fieldManager", "field manager"),
      query("fieldValidation", "field validation"),
    ]),
    patch: operation("patch", [
      query("dryRun", "dry run"),
      query("fieldManager", "field manager"),
      query(
        "fieldValidation",
        "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.",
      ),
      query("force", "force"),
    ]),
    delete: operation("delete", [query("dryRun", "dry run")]),
  };
}

/** The `/openapi/v3` index: one entry per served group/version, with a content hash. */
export function openApiIndex(resources: readonly ResourceInfo[]): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, version } of groupVersions(resources)) {
    const doc = JSON.stringify(openApiDocument(resources, group, version));
    const hash = createHash("sha512").update(doc).digest("hex").slice(0, 128).toUpperCase();
    const prefix = urlPrefix(group, version);
    paths[prefix] = { serverRelativeURL: `/openapi/v3/${prefix}?hash=${hash}` };
  }
  return { paths };
}
