// Per-group discovery documents (APIVersions, APIGroupList, APIGroup,
// APIResourceList) and /version. Aggregated discovery is deliberately not
// offered: kubectl only uses it when the response carries the exact
// `as=APIGroupDiscoveryList` content type, and falls back to these otherwise.

import { apiVersionOf, type ResourceInfo } from "../resources.ts";

/** Subresources this HTTP layer serves, with the verbs discovery lists for them. */
export const SERVED_SUBRESOURCES: Record<string, string[]> = {
  status: ["get", "patch", "update"],
  log: ["get"],
};

function groupVersions(resources: readonly ResourceInfo[]): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const info of resources) seen.set(apiVersionOf(info), { group: info.group, version: info.version });
  return [...seen.values()];
}

export const KUBERNETES_VERSION = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.4",
  gitCommit: "59526cd4867447956156ae3a602fcbac10a2c335",
  gitTreeState: "clean",
  buildDate: "2025-04-22T16:02:27Z",
  goVersion: "go1.23.6",
  compiler: "gc",
  platform: "linux/amd64",
} as const;

export function apiVersions(serverAddress: string): object {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function apiGroup(name: string, versions: string[]): object {
  const entries = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: entries, preferredVersion: entries[0] };
}

export { groupVersions };

export function apiGroupList(resources: readonly ResourceInfo[]): object {
  const groups = new Map<string, string[]>();
  for (const { group, version } of groupVersions(resources)) {
    if (!group) continue;
    groups.set(group, [...(groups.get(group) ?? []), version]);
  }
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: [...groups].map(([name, versions]) => apiGroup(name, versions)),
  };
}

/** The APIGroup document for `/apis/<group>`, or undefined when the group is not served. */
export function apiGroupDocument(resources: readonly ResourceInfo[], group: string): object | undefined {
  const versions = groupVersions(resources)
    .filter((gv) => gv.group === group)
    .map((gv) => gv.version);
  if (versions.length === 0) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...apiGroup(group, versions) };
}

/** The APIResourceList for one group/version, or undefined when it is not served. */
export function apiResourceList(
  resources: readonly ResourceInfo[],
  group: string,
  version: string,
): object | undefined {
  const infos = resources.filter((info) => info.group === group && info.version === version);
  if (infos.length === 0) return undefined;
  const list: object[] = [];
  for (const info of infos) {
    list.push({
      name: info.plural,
      singularName: info.singular,
      namespaced: info.namespaced,
      kind: info.kind,
      verbs: info.verbs,
      ...(info.shortNames.length > 0 ? { shortNames: info.shortNames } : {}),
      ...(info.categories.length > 0 ? { categories: info.categories } : {}),
    });
    for (const sub of info.subresources) {
      const verbs = SERVED_SUBRESOURCES[sub];
      if (!verbs) continue;
      list.push({
        name: `${info.plural}/${sub}`,
        singularName: "",
        namespaced: info.namespaced,
        kind: sub === "log" ? "Pod" : info.kind,
        verbs,
      });
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: apiVersionOf({ group, version }),
    resources: list,
  };
}
