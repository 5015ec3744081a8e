// The resource types the simulator serves, described the way discovery describes
// them. The HTTP layer builds `/api`, `/apis` and the APIResourceLists from this
// table; the store uses it for scope, naming rules and field selectors.

import type { KubeObject, ResourceName } from "./types.ts";
import { resourceTypeNotFound } from "./errors.ts";

export interface ResourceInfo {
  /** `""` for the core group. */
  group: string;
  version: string;
  kind: string;
  /** The URL segment: `daemonsets`. */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  /** `kubectl get all` uses the `all` category. */
  categories: string[];
  verbs: string[];
  /** Subresources served besides the main resource, e.g. `status`, `log`. */
  subresources: string[];
  /** Which validation applies to `metadata.name`. */
  nameRule: "subdomain" | "label" | "path-segment";
  /** Whether the object has metadata.generation (workloads and network policies do; pods in 1.32 do not). */
  hasGeneration: boolean;
  /**
   * Field selectors beyond the default `metadata.name`/`metadata.namespace`, and the
   * error text for unsupported ones: core types use "field label not supported: X",
   * everything else the apimachinery default.
   */
  fieldSelectors?: Record<string, (o: KubeObject) => string>;
  /**
   * Served from another resource's objects, converted on the way out, as the API
   * server serves one storage in several versions (events.k8s.io/v1 Events are the
   * core/v1 Events). Such a resource is read-only here.
   */
  storage?: { resource: ResourceName; convert: (o: KubeObject) => KubeObject };
}

const STANDARD_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function str(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

function rec(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
}

const metaName = (o: KubeObject): string => o.metadata.name ?? "";
const metaNamespace = (o: KubeObject): string => o.metadata.namespace ?? "";

/** The supported resources. Keyed lookups go through `lookupResource`. */
export const RESOURCES: readonly ResourceInfo[] = [
  {
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    singular: "namespace",
    namespaced: false,
    shortNames: ["ns"],
    categories: [],
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    subresources: ["status", "finalize"],
    nameRule: "label",
    hasGeneration: false,
    fieldSelectors: { "metadata.name": metaName, "status.phase": (o) => str(rec(o.status).phase) },
  },
  {
    group: "",
    version: "v1",
    kind: "Node",
    plural: "nodes",
    singular: "node",
    namespaced: false,
    shortNames: ["no"],
    categories: [],
    verbs: STANDARD_VERBS,
    subresources: ["status", "proxy"],
    nameRule: "subdomain",
    hasGeneration: false,
    fieldSelectors: {
      "metadata.name": metaName,
      "spec.unschedulable": (o) => str(rec(o.spec).unschedulable ?? false),
    },
  },
  {
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    singular: "pod",
    namespaced: true,
    shortNames: ["po"],
    categories: ["all"],
    verbs: STANDARD_VERBS,
    subresources: [
      "status",
      "log",
      "eviction",
      "binding",
      "exec",
      "attach",
      "portforward",
      "ephemeralcontainers",
    ],
    nameRule: "subdomain",
    hasGeneration: false,
    fieldSelectors: {
      "metadata.name": metaName,
      "metadata.namespace": metaNamespace,
      "spec.nodeName": (o) => str(rec(o.spec).nodeName),
      "spec.restartPolicy": (o) => str(rec(o.spec).restartPolicy),
      "spec.schedulerName": (o) => str(rec(o.spec).schedulerName),
      "spec.serviceAccountName": (o) => str(rec(o.spec).serviceAccountName),
      "status.phase": (o) => str(rec(o.status).phase),
      "status.podIP": (o) => str(rec(o.status).podIP),
      "status.nominatedNodeName": (o) => str(rec(o.status).nominatedNodeName),
    },
  },
  {
    group: "",
    version: "v1",
    kind: "Service",
    plural: "services",
    singular: "service",
    namespaced: true,
    shortNames: ["svc"],
    categories: ["all"],
    verbs: STANDARD_VERBS,
    subresources: ["status", "proxy"],
    nameRule: "label",
    hasGeneration: false,
  },
  {
    group: "",
    version: "v1",
    kind: "Event",
    plural: "events",
    singular: "event",
    namespaced: true,
    shortNames: ["ev"],
    categories: [],
    verbs: STANDARD_VERBS,
    subresources: [],
    nameRule: "subdomain",
    hasGeneration: false,
    // kubectl describe lists events with involvedObject.* field selectors.
    fieldSelectors: {
      "metadata.name": metaName,
      "metadata.namespace": metaNamespace,
      "involvedObject.kind": (o) => str(rec(o.involvedObject).kind),
      "involvedObject.namespace": (o) => str(rec(o.involvedObject).namespace),
      "involvedObject.name": (o) => str(rec(o.involvedObject).name),
      "involvedObject.uid": (o) => str(rec(o.involvedObject).uid),
      "involvedObject.apiVersion": (o) => str(rec(o.involvedObject).apiVersion),
      "involvedObject.resourceVersion": (o) => str(rec(o.involvedObject).resourceVersion),
      "involvedObject.fieldPath": (o) => str(rec(o.involvedObject).fieldPath),
      reason: (o) => str(o.reason),
      reportingComponent: (o) => str(o.reportingComponent),
      source: (o) => str(rec(o.source).component),
      type: (o) => str(o.type),
    },
  },
  {
    group: "",
    version: "v1",
    kind: "ServiceAccount",
    plural: "serviceaccounts",
    singular: "serviceaccount",
    namespaced: true,
    shortNames: ["sa"],
    categories: [],
    verbs: STANDARD_VERBS,
    subresources: ["token"],
    nameRule: "subdomain",
    hasGeneration: false,
  },
  {
    group: "",
    version: "v1",
    kind: "Secret",
    plural: "secrets",
    singular: "secret",
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: STANDARD_VERBS,
    subresources: [],
    nameRule: "subdomain",
    hasGeneration: false,
    fieldSelectors: {
      "metadata.name": metaName,
      "metadata.namespace": metaNamespace,
      type: (o) => str(o.type),
    },
  },
  {
    group: "",
    version: "v1",
    kind: "ConfigMap",
    plural: "configmaps",
    singular: "configmap",
    namespaced: true,
    shortNames: ["cm"],
    categories: [],
    verbs: STANDARD_VERBS,
    subresources: [],
    nameRule: "subdomain",
    hasGeneration: false,
  },
  {
    group: "apps",
    version: "v1",
    kind: "DaemonSet",
    plural: "daemonsets",
    singular: "daemonset",
    namespaced: true,
    shortNames: ["ds"],
    categories: ["all"],
    verbs: STANDARD_VERBS,
    subresources: ["status"],
    nameRule: "subdomain",
    hasGeneration: true,
  },
  {
    group: "apps",
    version: "v1",
    kind: "ControllerRevision",
    plural: "controllerrevisions",
    singular: "controllerrevision",
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: STANDARD_VERBS,
    subresources: [],
    nameRule: "subdomain",
    hasGeneration: false,
  },
  {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "ClusterRole",
    plural: "clusterroles",
    singular: "clusterrole",
    namespaced: false,
    shortNames: [],
    categories: [],
    verbs: [
      "create",
      "delete",
      "deletecollection",
      "get",
      "list",
      "patch",
      "update",
      "watch",
      "escalate",
      "bind",
    ],
    subresources: [],
    nameRule: "path-segment",
    hasGeneration: false,
  },
  {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "ClusterRoleBinding",
    plural: "clusterrolebindings",
    singular: "clusterrolebinding",
    namespaced: false,
    shortNames: [],
    categories: [],
    verbs: STANDARD_VERBS,
    subresources: [],
    nameRule: "path-segment",
    hasGeneration: false,
  },
  {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "Role",
    plural: "roles",
    singular: "role",
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: [
      "create",
      "delete",
      "deletecollection",
      "get",
      "list",
      "patch",
      "update",
      "watch",
      "escalate",
      "bind",
    ],
    subresources: [],
    nameRule: "path-segment",
    hasGeneration: false,
  },
  {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "RoleBinding",
    plural: "rolebindings",
    singular: "rolebinding",
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: STANDARD_VERBS,
    subresources: [],
    nameRule: "path-segment",
    hasGeneration: false,
  },
  {
    group: "networking.k8s.io",
    version: "v1",
    kind: "NetworkPolicy",
    plural: "networkpolicies",
    singular: "networkpolicy",
    namespaced: true,
    shortNames: ["netpol"],
    categories: [],
    verbs: STANDARD_VERBS,
    subresources: [],
    nameRule: "subdomain",
    hasGeneration: true,
  },
  {
    group: "coordination.k8s.io",
    version: "v1",
    kind: "Lease",
    plural: "leases",
    singular: "lease",
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: STANDARD_VERBS,
    subresources: [],
    nameRule: "subdomain",
    hasGeneration: false,
  },
  {
    group: "events.k8s.io",
    version: "v1",
    kind: "Event",
    plural: "events",
    singular: "event",
    namespaced: true,
    shortNames: ["ev"],
    categories: [],
    verbs: ["get", "list", "watch"],
    subresources: [],
    nameRule: "subdomain",
    hasGeneration: false,
    storage: { resource: "events", convert: toEventsV1 },
  },
];

/** A core/v1 Event in the events.k8s.io/v1 shape, field for field as the API server converts it. */
export function toEventsV1(o: KubeObject): KubeObject {
  const out: KubeObject = {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: o.metadata,
    eventTime: o.eventTime ?? null,
  };
  const set = (key: string, value: unknown): void => {
    if (value !== undefined && value !== null && value !== "") out[key] = value;
  };
  set("series", o.series);
  set("reportingController", o.reportingComponent);
  set("reportingInstance", o.reportingInstance);
  set("action", o.action);
  set("reason", o.reason);
  set("regarding", o.involvedObject);
  set("related", o.related);
  set("note", o.message);
  set("type", o.type);
  set("deprecatedSource", o.source);
  set("deprecatedFirstTimestamp", o.firstTimestamp);
  set("deprecatedLastTimestamp", o.lastTimestamp);
  if (typeof o.count === "number" && o.count !== 0) out.deprecatedCount = o.count;
  return out;
}

/** `pods`, `daemonsets.apps`: how the API names a resource in errors and how the store keys it. */
export function resourceName(info: Pick<ResourceInfo, "group" | "plural">): ResourceName {
  return info.group === "" ? info.plural : `${info.plural}.${info.group}`;
}

/** Where a resource's objects are stored: its own name, or the resource it is converted from. */
export function storageName(info: ResourceInfo): ResourceName {
  return info.storage?.resource ?? resourceName(info);
}

/** An object from storage as this resource serves it. */
export function presentAs(info: ResourceInfo, o: KubeObject): KubeObject {
  return info.storage ? info.storage.convert(o) : o;
}

/** `v1`, `apps/v1`. */
export function apiVersionOf(info: Pick<ResourceInfo, "group" | "version">): string {
  return info.group === "" ? info.version : `${info.group}/${info.version}`;
}

/** Whether writes to the main resource keep the stored status (a `/status` subresource exists). */
export function hasStatusSubresource(info: ResourceInfo): boolean {
  return info.subresources.includes("status");
}

const byName = new Map<string, ResourceInfo>();
for (const info of RESOURCES) {
  byName.set(resourceName(info), info);
  // Unqualified plurals are unambiguous within this table, so accept them too.
  if (!byName.has(info.plural)) byName.set(info.plural, info);
}

/** Finds a resource by `pods` / `daemonsets.apps` / `daemonsets`; unknown → 404 ApiError. */
export function lookupResource(name: ResourceName): ResourceInfo {
  const info = byName.get(name);
  if (!info) throw resourceTypeNotFound();
  return info;
}

/** Finds a resource by apiVersion and kind (`apps/v1`, `DaemonSet`), e.g. to follow an ownerReference. */
export function resourceForKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}

/** The field-selector getter for a field, or the error text the real API server gives. */
export function fieldGetter(info: ResourceInfo, field: string): ((o: KubeObject) => string) | string {
  const custom = info.fieldSelectors;
  if (custom) {
    const get = custom[field];
    if (get) return get;
    // Core types with their own conversion functions use this wording.
    if (info.group === "") return `field label not supported: ${field}`;
  }
  if (field === "metadata.name") return metaName;
  if (field === "metadata.namespace") return metaNamespace;
  return `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`;
}
