// The resource endpoints: list/watch/get/create/update/patch/delete on the
// store, with the query parameters real clients send (selectors, pagination,
// dryRun, fieldValidation, fieldManager, propagationPolicy) and Table output.

import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, notFound } from "../errors.ts";
import {
  applyJsonPatch,
  deepEqual,
  jsonMergePatch,
  KIND_SCHEMAS,
  parseApplyBody,
  serverSideApply,
  strategicMergePatch,
  type JsonObject,
} from "../patch/index.ts";
import { apiVersionOf, presentAs, resourceName, storageName, type ResourceInfo } from "../resources.ts";
import type { DeleteOptions, SimObjectStore } from "../store.ts";
import type { KubeObject } from "../types.ts";
import { decodeObject, decodePatchJson, mediaType, readBody, readObject } from "./body.ts";
import {
  findUnknownFields,
  parseFieldValidation,
  pruneUnknownFields,
  type FieldValidation,
} from "./field-validation.ts";
import type { Verb } from "./faults.ts";
import type { ListSnapshots } from "./list-snapshots.ts";
import { serveLogs, type LogSource } from "./logs.ts";
import { failure, methodNotAllowed, sendJson } from "./respond.ts";
import type { Route } from "./router.ts";
import { toTable, wantsTable, type IncludeObject } from "./tables.ts";
import type { WatchHub } from "./watch.ts";

export interface ApiContext {
  store: SimObjectStore;
  watches: WatchHub;
  logs: LogSource | undefined;
  applied: AppliedConfigurations;
  snapshots: ListSnapshots;
}

/**
 * Each field manager's last server-side-applied configuration per object (by
 * uid), so that a later apply can remove what the manager stopped applying.
 */
export class AppliedConfigurations {
  private readonly byUid = new Map<string, Map<string, JsonObject>>();

  get(uid: string | undefined, manager: string): JsonObject | undefined {
    return uid === undefined ? undefined : this.byUid.get(uid)?.get(manager);
  }

  set(uid: string | undefined, manager: string, applied: JsonObject): void {
    if (uid === undefined) return;
    let managers = this.byUid.get(uid);
    if (!managers) this.byUid.set(uid, (managers = new Map<string, JsonObject>()));
    managers.set(manager, applied);
  }

  /** Called when an object is deleted. */
  forget(uid: string | undefined): void {
    if (uid !== undefined) this.byUid.delete(uid);
  }
}

type ResourceRoute = Extract<Route, { type: "resource" }>;

const isTrue = (value: string | null): boolean => value === "true" || value === "1";

/** The verb a request maps to (for fault matching and method checks). */
export function verbOf(method: string, route: ResourceRoute, query: URLSearchParams): Verb | undefined {
  const item = route.name !== undefined;
  switch (method) {
    case "GET":
      if (route.legacyWatch || isTrue(query.get("watch"))) return "watch";
      return item ? "get" : "list";
    case "POST":
      return item ? undefined : "create";
    case "PUT":
      return item ? "update" : undefined;
    case "PATCH":
      return item ? "patch" : undefined;
    case "DELETE":
      return item ? "delete" : "deletecollection";
    default:
      return undefined;
  }
}

/** Handles one request on a resource path; throws ApiError for failures. */
export async function handleResource(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ResourceRoute,
  query: URLSearchParams,
): Promise<void> {
  const verb = verbOf(req.method ?? "GET", route, query);
  if (verb === undefined) throw methodNotAllowed();
  // A resource served from another one's storage (events.k8s.io Events) is read-only here.
  if (route.info.storage && !route.info.verbs.includes(verb)) throw methodNotAllowed();
  // A namespaced resource without a namespace in the path only lists and watches across namespaces.
  if (route.info.namespaced && route.namespace === undefined && verb !== "list" && verb !== "watch")
    throw methodNotAllowed();
  const sub = route.subresource;
  if (
    sub !== undefined &&
    !(sub === "status" && route.info.subresources.includes("status")) &&
    !(sub === "log" && route.info.kind === "Pod")
  ) {
    throw failure(404, "NotFound", "the server could not find the requested resource", {});
  }
  if (sub === "log") {
    if (verb !== "get") throw methodNotAllowed();
    await serveLogs(ctx, res, route.namespace, route.name!, query);
    return;
  }
  if (sub === "status" && !["get", "update", "patch"].includes(verb)) throw methodNotAllowed();

  switch (verb) {
    case "list":
      return list(ctx, req, res, route, query);
    case "watch":
      return watch(ctx, req, res, route, query);
    case "get":
      return get(ctx, req, res, route, query);
    case "create":
      return create(ctx, req, res, route, query);
    case "update":
      return update(ctx, req, res, route, query);
    case "patch":
      return patch(ctx, req, res, route, query);
    case "delete":
      return remove(ctx, req, res, route, query);
    case "deletecollection":
      return removeCollection(ctx, req, res, route, query);
  }
}

// ---- reads -----------------------------------------------------------------

function includeObject(query: URLSearchParams): IncludeObject {
  const value = query.get("includeObject");
  if (value === null || value === "") return "Metadata";
  if (value === "None" || value === "Metadata" || value === "Object") return value;
  throw badRequest(
    `includeObject: Unsupported value: "${value}": supported values: "Metadata", "None", "Object"`,
  );
}

interface ContinueToken {
  /** The list snapshot the token pages through. */
  id: string;
  rv: string;
  /** Key (`namespace/name`) of the last item already served. */
  start: string;
}

function decodeContinue(token: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<ContinueToken>;
    if (typeof parsed.id === "string" && typeof parsed.rv === "string" && typeof parsed.start === "string") {
      return { id: parsed.id, rv: parsed.rv, start: parsed.start };
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest(
    "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
  );
}

const EXPIRED_CONTINUE =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

const objectKey = (o: KubeObject): string => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

function list(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ResourceRoute,
  query: URLSearchParams,
): void {
  const resource = storageName(route.info);
  const options = {
    namespace: route.namespace,
    labelSelector: query.get("labelSelector") ?? undefined,
    fieldSelector: query.get("fieldSelector") ?? undefined,
  };
  // A token is only good for the list it came from.
  const scope = JSON.stringify([resource, options.namespace, options.labelSelector, options.fieldSelector]);
  let items: KubeObject[];
  let resourceVersion: string;
  let snapshotId: string | undefined;
  let nextToken: string | undefined;
  let remaining: number | undefined;

  const continueParam = query.get("continue");
  if (continueParam) {
    const token = decodeContinue(continueParam);
    const snapshot = ctx.snapshots.load(token.id);
    if (!snapshot) throw failure(410, "Expired", EXPIRED_CONTINUE);
    if (snapshot.scope !== scope)
      throw badRequest("continue key is not valid: the continue token was issued for a different list");
    items = snapshot.items.filter((o) => objectKey(o) > token.start);
    resourceVersion = snapshot.resourceVersion;
    snapshotId = token.id;
  } else {
    ({ items, resourceVersion } = ctx.store.list(resource, options));
  }
  // resourceVersion=0 is served from the watch cache, which ignores limit (the whole list comes back).
  // Other resourceVersion values are served from the current state: no snapshots of the past.
  const limit = query.get("resourceVersion") === "0" ? 0 : Number(query.get("limit") ?? "0");
  if (Number.isInteger(limit) && limit > 0 && items.length > limit) {
    snapshotId ??= ctx.snapshots.save(scope, items, resourceVersion);
    remaining = items.length - limit;
    items = items.slice(0, limit);
    const token: ContinueToken = {
      id: snapshotId,
      rv: resourceVersion,
      start: objectKey(items[items.length - 1]!),
    };
    nextToken = Buffer.from(JSON.stringify(token)).toString("base64url");
  }
  if (route.info.storage) items = items.map((o) => presentAs(route.info, o));

  if (wantsTable(req.headers.accept)) {
    sendJson(
      res,
      200,
      toTable(route.info.kind, items, {
        resourceVersion,
        continue: nextToken,
        includeObject: includeObject(query),
        now: Date.now(),
      }),
    );
    return;
  }
  sendJson(res, 200, {
    kind: `${route.info.kind}List`,
    apiVersion: apiVersionOf(route.info),
    metadata: {
      resourceVersion,
      ...(nextToken ? { continue: nextToken } : {}),
      ...(remaining !== undefined ? { remainingItemCount: remaining } : {}),
    },
    items,
  });
}

function watch(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ResourceRoute,
  query: URLSearchParams,
): void {
  const timeout = query.get("timeoutSeconds");
  // The legacy `/watch/.../<name>` form watches one object: the same as a metadata.name field selector.
  const fieldSelector = [
    query.get("fieldSelector"),
    route.name !== undefined ? `metadata.name=${route.name}` : null,
  ]
    .filter((s) => s)
    .join(",");
  ctx.watches.serve(req, res, {
    info: route.info,
    namespace: route.namespace,
    labelSelector: query.get("labelSelector") ?? undefined,
    fieldSelector: fieldSelector || undefined,
    resourceVersion: query.get("resourceVersion") ?? undefined,
    allowWatchBookmarks: isTrue(query.get("allowWatchBookmarks")),
    sendInitialEvents: isTrue(query.get("sendInitialEvents")),
    timeoutSeconds: timeout !== null && Number(timeout) > 0 ? Number(timeout) : undefined,
    table: wantsTable(req.headers.accept) ? { includeObject: includeObject(query) } : undefined,
  });
}

function qualified(info: ResourceInfo): { group: string; resource: string } {
  return { group: info.group, resource: info.plural };
}

function mustGet(ctx: ApiContext, route: ResourceRoute): KubeObject {
  const object = ctx.store.get(storageName(route.info), route.namespace, route.name!);
  if (!object) throw notFound(qualified(route.info), route.name!);
  return presentAs(route.info, object);
}

function get(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ResourceRoute,
  query: URLSearchParams,
): void {
  const object = mustGet(ctx, route);
  if (wantsTable(req.headers.accept)) {
    sendJson(
      res,
      200,
      toTable(route.info.kind, [object], {
        resourceVersion: object.metadata.resourceVersion,
        includeObject: includeObject(query),
        now: Date.now(),
      }),
    );
    return;
  }
  sendJson(res, 200, object);
}

// ---- writes ------------------------------------------------------------------

interface WriteOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
}

function writeOptions(query: URLSearchParams): WriteOptions {
  const dryRun = query.getAll("dryRun");
  if (dryRun.some((value) => value !== "All")) {
    throw badRequest(
      `dryRun: Unsupported value: "${dryRun.find((v) => v !== "All")}": supported values: "All"`,
    );
  }
  const fieldValidation = parseFieldValidation(query.get("fieldValidation"));
  if (!fieldValidation) {
    throw badRequest(
      `fieldValidation: Unsupported value: "${query.get("fieldValidation")}": supported values: "Ignore", "Strict", "Warn"`,
    );
  }
  const fieldManager = query.get("fieldManager");
  if (fieldManager !== null && fieldManager.length > 128) {
    throw badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
  }
  return { dryRun: dryRun.length > 0, fieldValidation };
}

/**
 * Applies fieldValidation to a decoded body: Strict → 400 with the decoder's
 * message; Warn → drop the fields and return a Warning header; Ignore → drop them.
 * `alreadyUnknown` lists unknown paths already present before a patch.
 */
function validateFields(
  kind: string,
  object: unknown,
  mode: FieldValidation,
  alreadyUnknown: ReadonlySet<string> = new Set(),
): Record<string, string> {
  const introduced = findUnknownFields(kind, object).filter((path) => !alreadyUnknown.has(path));
  if (introduced.length === 0) return {};
  if (mode === "Strict") {
    throw badRequest(`strict decoding error: ${introduced.map((p) => `unknown field "${p}"`).join(", ")}`);
  }
  pruneUnknownFields(kind, object, alreadyUnknown);
  if (mode === "Ignore") return {};
  return { Warning: introduced.map((p) => `299 - "unknown field \\"${p}\\""`).join(", ") };
}

/** Checks apiVersion/kind of a body against the URL's resource; fills them when absent. */
function checkTypeMeta(info: ResourceInfo, object: Record<string, unknown>): void {
  const apiVersion = apiVersionOf(info);
  if (object.kind === undefined || object.kind === "") object.kind = info.kind;
  if (object.apiVersion === undefined || object.apiVersion === "") object.apiVersion = apiVersion;
  if (object.kind !== info.kind || object.apiVersion !== apiVersion) {
    throw badRequest(
      `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  }
}

function metadataOf(object: Record<string, unknown>): Record<string, unknown> {
  const metadata = object.metadata;
  if (metadata === undefined || metadata === null) {
    const created: Record<string, unknown> = {};
    object.metadata = created;
    return created;
  }
  if (typeof metadata !== "object" || Array.isArray(metadata)) throw badRequest("metadata must be an object");
  return metadata as Record<string, unknown>;
}

function checkNamespace(route: ResourceRoute, metadata: Record<string, unknown>): void {
  if (!route.info.namespaced) return;
  const inBody = metadata.namespace;
  if (inBody === undefined || inBody === "") metadata.namespace = route.namespace;
  else if (inBody !== route.namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
}

function checkName(route: ResourceRoute, metadata: Record<string, unknown>): void {
  const inBody = metadata.name;
  if (inBody === undefined || inBody === "") metadata.name = route.name;
  else if (inBody !== route.name) {
    throw badRequest(
      `the name of the object (${typeof inBody === "string" ? inBody : JSON.stringify(inBody)}) does not match the name on the URL (${route.name})`,
    );
  }
}

async function create(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ResourceRoute,
  query: URLSearchParams,
): Promise<void> {
  const options = writeOptions(query);
  const body = await readObject(req, route.info.kind);
  checkTypeMeta(route.info, body);
  const metadata = metadataOf(body);
  checkNamespace(route, metadata);
  const headers = validateFields(route.info.kind, body, options.fieldValidation);
  const object = body as KubeObject;
  const resource = resourceName(route.info);
  const created = options.dryRun
    ? ctx.store.previewCreate(resource, object)
    : ctx.store.create(resource, object);
  sendJson(res, 201, created, headers);
}

async function update(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ResourceRoute,
  query: URLSearchParams,
): Promise<void> {
  const options = writeOptions(query);
  const body = await readObject(req, route.info.kind);
  checkTypeMeta(route.info, body);
  const metadata = metadataOf(body);
  checkName(route, metadata);
  checkNamespace(route, metadata);
  const headers = validateFields(route.info.kind, body, options.fieldValidation);
  const existing = mustGet(ctx, route);
  const object = body as KubeObject;
  const subresource = route.subresource === "status" ? ({ subresource: "status" } as const) : {};
  const updated = options.dryRun
    ? previewUpdate(route, existing, object)
    : ctx.store.update(resourceName(route.info), object, subresource);
  sendJson(res, 200, updated, headers);
}

/** The dry-run answer for updates and patches: the new content on the stored identity. */
function previewUpdate(route: ResourceRoute, existing: KubeObject, next: KubeObject): KubeObject {
  const preview = structuredClone(next);
  if (route.subresource === "status") {
    const kept = structuredClone(existing);
    kept.status = preview.status;
    return kept;
  }
  if (route.info.subresources.includes("status")) preview.status = structuredClone(existing.status);
  preview.metadata = {
    ...preview.metadata,
    uid: existing.metadata.uid,
    creationTimestamp: existing.metadata.creationTimestamp,
  };
  // As the store would: a spec change bumps the generation (so `kubectl diff` shows it).
  if (route.info.hasGeneration && !deepEqual(preview.spec, existing.spec))
    preview.metadata.generation = (existing.metadata.generation ?? 0) + 1;
  return preview;
}

const PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/apply-patch+yaml",
  "application/strategic-merge-patch+json",
];

async function patch(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ResourceRoute,
  query: URLSearchParams,
): Promise<void> {
  const type = mediaType(req.headers["content-type"]);
  if (!PATCH_TYPES.includes(type)) {
    throw failure(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(", ")}`,
      {},
    );
  }
  const options = writeOptions(query);
  const text = await readBody(req);
  const resource = resourceName(route.info);
  const existing = ctx.store.get(resource, route.namespace, route.name!);
  const kind = route.info.kind;
  const schema = KIND_SCHEMAS[kind];

  if (type === "application/apply-patch+yaml") {
    const fieldManager = query.get("fieldManager");
    if (!fieldManager)
      throw badRequest(
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    const applied = parseApplyBody(text);
    checkTypeMeta(route.info, applied);
    const metadata = metadataOf(applied);
    checkName(route, metadata);
    checkNamespace(route, metadata);
    const headers = validateFields(kind, applied, options.fieldValidation);
    if (!existing) {
      if (route.subresource === "status") throw notFound(qualified(route.info), route.name!);
      const object = structuredClone(applied) as KubeObject;
      const created = options.dryRun
        ? ctx.store.previewCreate(resource, object)
        : ctx.store.create(resource, object);
      if (!options.dryRun) ctx.applied.set(created.metadata.uid, fieldManager, applied);
      sendJson(res, 201, created, headers);
      return;
    }
    // The merged object keeps the stored resourceVersion unless the configuration names one (a precondition).
    const previous = ctx.applied.get(existing.metadata.uid, fieldManager);
    const merged = serverSideApply(
      structuredClone(existing) as unknown as JsonObject,
      applied,
      schema,
      previous,
    );
    commitPatch(ctx, res, route, existing, merged, options, headers);
    if (!options.dryRun) ctx.applied.set(existing.metadata.uid, fieldManager, applied);
    return;
  }

  if (!existing) throw notFound(qualified(route.info), route.name!);
  const body = decodePatchJson(text);
  const original = structuredClone(existing) as unknown as JsonObject;
  let patched: JsonObject;
  switch (type) {
    case "application/json-patch+json":
      patched = applyJsonPatch(original, body);
      break;
    case "application/merge-patch+json":
      if (typeof body !== "object" || body === null || Array.isArray(body))
        throw badRequest("the merge patch must be a JSON object");
      patched = jsonMergePatch(original, body as JsonObject) as JsonObject;
      break;
    default:
      if (typeof body !== "object" || body === null || Array.isArray(body))
        throw badRequest("the strategic merge patch must be a JSON object");
      patched = strategicMergePatch(original, body as JsonObject, schema);
  }
  const alreadyUnknown = new Set(findUnknownFields(kind, existing));
  const headers = validateFields(kind, patched, options.fieldValidation, alreadyUnknown);
  commitPatch(ctx, res, route, existing, patched, options, headers);
}

function commitPatch(
  ctx: ApiContext,
  res: ServerResponse,
  route: ResourceRoute,
  existing: KubeObject,
  patched: JsonObject,
  options: WriteOptions,
  headers: Record<string, string>,
): void {
  const object = patched as unknown as KubeObject;
  if (typeof object.metadata !== "object" || object.metadata === null)
    throw badRequest("metadata must be an object");
  if (object.metadata.name !== existing.metadata.name) {
    throw badRequest(
      `the name of the object (${String(object.metadata.name)}) does not match the name on the URL (${route.name})`,
    );
  }
  const subresource = route.subresource === "status" ? ({ subresource: "status" } as const) : {};
  const updated = options.dryRun
    ? previewUpdate(route, existing, object)
    : ctx.store.update(resourceName(route.info), object, subresource);
  sendJson(res, 200, updated, headers);
}

// ---- deletes -------------------------------------------------------------------

async function deleteOptions(
  req: IncomingMessage,
  query: URLSearchParams,
): Promise<DeleteOptions & { dryRun: boolean }> {
  const text = await readBody(req);
  let body: Record<string, unknown> = {};
  if (text.trim() !== "") body = decodeObject(text, "application/json");
  const policy =
    (body.propagationPolicy as string | undefined) ?? query.get("propagationPolicy") ?? undefined;
  if (policy !== undefined && !["Background", "Foreground", "Orphan"].includes(policy)) {
    throw badRequest(
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
    );
  }
  const preconditions = body.preconditions as DeleteOptions["preconditions"];
  const dryRun = Array.isArray(body.dryRun) ? body.dryRun.length > 0 : query.getAll("dryRun").length > 0;
  return { propagationPolicy: policy as DeleteOptions["propagationPolicy"], preconditions, dryRun };
}

async function remove(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ResourceRoute,
  query: URLSearchParams,
): Promise<void> {
  const options = await deleteOptions(req, query);
  const existing = mustGet(ctx, route);
  if (options.dryRun) {
    sendJson(res, 200, existing);
    return;
  }
  const result = ctx.store.delete(resourceName(route.info), route.namespace, route.name!, options);
  if (ctx.store.get(resourceName(route.info), route.namespace, route.name!)) {
    // Still there (finalizers pending): the API server answers with the object.
    sendJson(res, 200, result);
    return;
  }
  // Deleted at once: the API server answers with a Success Status naming it.
  sendJson(res, 200, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: {
      name: route.name,
      ...(route.info.group ? { group: route.info.group } : {}),
      kind: route.info.plural,
      uid: existing.metadata.uid,
    },
  });
}

async function removeCollection(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ResourceRoute,
  query: URLSearchParams,
): Promise<void> {
  const options = await deleteOptions(req, query);
  const filter = {
    namespace: route.namespace,
    labelSelector: query.get("labelSelector") ?? undefined,
    fieldSelector: query.get("fieldSelector") ?? undefined,
  };
  const resource = resourceName(route.info);
  const items = options.dryRun
    ? ctx.store.list(resource, filter).items
    : ctx.store.deleteCollection(resource, { ...filter, ...options });
  sendJson(res, 200, {
    kind: `${route.info.kind}List`,
    apiVersion: apiVersionOf(route.info),
    metadata: { resourceVersion: ctx.store.currentResourceVersion() },
    items,
  });
}
