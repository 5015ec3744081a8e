// The in-memory object store of a simulated cluster: the registry part of an API
// server. One global, increasing resourceVersion; one event per committed write;
// a bounded history for watch replay; owner-reference garbage collection.
//
// Objects handed out (get/list/events) are deeply frozen and shared: clone before
// modifying. Objects passed in are cloned, so callers may keep mutating theirs.

import { cloneJson } from "./json.ts";
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type {
  Clock,
  KubeObject,
  ListOptions,
  ObjectStore,
  OwnerReference,
  ResourceName,
  StoreEvent,
} from "./types.ts";
import { systemClock } from "./types.ts";
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  forbidden,
  invalid,
  notFound,
} from "./errors.ts";
import { applyDefaults, initialStatus } from "./defaults.ts";
import {
  apiVersionOf,
  fieldGetter,
  hasStatusSubresource,
  lookupResource,
  resourceName,
  type ResourceInfo,
} from "./resources.ts";
import {
  matchesFieldRequirements,
  matchesLabelRequirements,
  parseFieldSelector,
  parseLabelSelector,
} from "./selectors.ts";
import { validateName, validateObject } from "./validation.ts";

export {
  RESOURCES,
  lookupResource,
  resourceName,
  apiVersionOf,
  resourceForKind,
  type ResourceInfo,
} from "./resources.ts";

/** Namespaces every cluster starts with; the first three may not be deleted. */
export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

/** DeleteOptions the store honours. */
export interface DeleteOptions {
  /** `Background` (default) and `Foreground` delete dependents; `Orphan` strips their ownerReferences. */
  propagationPolicy?: "Background" | "Foreground" | "Orphan" | undefined;
  preconditions?: { uid?: string | undefined; resourceVersion?: string | undefined } | undefined;
  /**
   * Pods only: seconds the kubelet gets to stop the containers. Default: the pod's
   * terminationGracePeriodSeconds (30), or 0 for unbound and finished pods. A pod
   * deleted with a grace period gets deletionTimestamp (Terminating) and is removed
   * by its kubelet's final delete with 0.
   */
  // NOTE(kube-sim-core): http/api.ts deleteOptions() does not pass `gracePeriodSeconds`
  // (body or query) through yet, so `kubectl delete pod --grace-period=0 --force` is still graceful.
  gracePeriodSeconds?: number | undefined;
}

export interface ObjectStoreOptions {
  clock?: Clock;
  /**
   * How many events of each resource type `eventsSince` can replay; older versions
   * are Expired (410). Kept per resource, as the API server's watch cache is, so
   * busy pods do not expire a quiet resource's history. Default 10,000.
   */
  historyLimit?: number;
  /** Namespaces created at start. Default: default, kube-system, kube-public, kube-node-lease. */
  namespaces?: readonly string[];
}

/** The store with the simulator's extras beyond the shared `ObjectStore` interface. */
export interface SimObjectStore extends ObjectStore {
  delete(
    resource: ResourceName,
    namespace: string | undefined,
    name: string,
    options?: DeleteOptions,
  ): KubeObject;
  /**
   * A dry-run create: the object exactly as `create` would store it (name from
   * generateName, uid, creationTimestamp on the store's clock, generation,
   * defaults, initial status) and the same errors, but nothing is stored: it has
   * no resourceVersion and no event is sent.
   */
  previewCreate(resource: ResourceName, object: KubeObject): KubeObject;
  /** Deletes every object `list` would return for these options; returns them. */
  deleteCollection(resource: ResourceName, options?: ListOptions & DeleteOptions): KubeObject[];
  /**
   * Events strictly after `resourceVersion`, oldest first, optionally for one resource.
   * Throws a 410 `Expired` ApiError when that version is older than the retained history.
   * Call it and `subscribe` in the same tick so no event falls between them.
   */
  eventsSince(resourceVersion: string, resource?: ResourceName): StoreEvent[];
  /** Fault injection: forget the history, so any watch from an older version gets 410. */
  expireHistory(): void;
  /** Whether an object (or label/field selection) matches list options; lets watchers filter live events. */
  matches(resource: ResourceName, object: KubeObject, options: ListOptions): boolean;
  /** Checks selectors up front (400 on unsupported fields) and returns a reusable predicate. */
  compileFilter(resource: ResourceName, options: ListOptions): (object: KubeObject) => boolean;
  /** Pods bound to a node, without scanning all pods. */
  podsOnNode(nodeName: string): KubeObject[];
  /**
   * The `pods/binding` subresource: sets spec.nodeName and the PodScheduled condition
   * in one write. 409 Conflict when the pod is already bound.
   */
  bind(namespace: string, name: string, nodeName: string): KubeObject;
  /** Objects that name `ownerUid` in their ownerReferences. */
  dependentsOf(ownerUid: string): { resource: ResourceName; object: KubeObject }[];
}

// ---------------------------------------------------------------------------
// Helpers

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

let lastSecond = Number.NaN;
let lastFormatted = "";

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function formatTimestamp(ms: number): string {
  const second = Math.floor(ms / 1000);
  // Called for every write and event; the same second repeats thousands of times.
  if (second !== lastSecond) {
    lastSecond = second;
    lastFormatted = new Date(second * 1000).toISOString().replace(".000Z", "Z");
  }
  return lastFormatted;
}

/** CheckGracefulDelete of the pod strategy. */
function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const nodeName = pod.spec?.nodeName;
  const phase = pod.status?.phase;
  // Unbound and finished pods have no kubelet to wait for.
  if (typeof nodeName !== "string" || nodeName === "" || phase === "Succeeded" || phase === "Failed")
    return 0;
  if (requested !== undefined) return Math.max(0, requested);
  const fromSpec = pod.spec?.terminationGracePeriodSeconds;
  return typeof fromSpec === "number" ? Math.max(0, fromSpec) : 30;
}

// utilrand.String's alphabet: no vowels and no confusable digits, so generated names never spell words.
const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

function randomSuffix(length = 5): string {
  let s = "";
  for (let i = 0; i < length; i++) s += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  return s;
}

function qualified(info: ResourceInfo): { group: string; resource: string } {
  return { group: info.group, resource: info.plural };
}

interface Slot {
  info: ResourceInfo;
  /** namespace ("" for cluster-scoped) → name → object */
  byNamespace: Map<string, Map<string, KubeObject>>;
  /** Lists return etcd key order; these caches keep it without sorting every list. Dropped on add/remove. */
  sortedNamespaces?: string[] | undefined;
  sortedNames: Map<string, string[]>;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One resource type's watch history: a ring of its newest events, oldest first.
 * `evictedUpTo` is the resourceVersion of the newest event that fell out, so any
 * version at or after it can still be replayed exactly.
 */
class ResourceHistory {
  private readonly events: (StoreEvent | undefined)[];
  private readonly revisions: number[];
  private start = 0;
  private count = 0;
  evictedUpTo = 0;

  constructor(private readonly limit: number) {
    this.events = new Array<StoreEvent | undefined>(limit);
    this.revisions = new Array<number>(limit).fill(0);
  }

  push(rv: number, event: StoreEvent): void {
    if (this.count === this.limit) {
      this.evictedUpTo = this.revisions[this.start]!;
      this.events[this.start] = event;
      this.revisions[this.start] = rv;
      this.start = (this.start + 1) % this.limit;
    } else {
      const i = (this.start + this.count) % this.limit;
      this.events[i] = event;
      this.revisions[i] = rv;
      this.count++;
    }
  }

  /** Events with a resourceVersion strictly after `since`, oldest first. */
  after(since: number): StoreEvent[] {
    // Binary search for the first retained event after `since`.
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.revisions[(this.start + mid) % this.limit]! <= since) lo = mid + 1;
      else hi = mid;
    }
    const out: StoreEvent[] = [];
    for (let k = lo; k < this.count; k++) out.push(this.events[(this.start + k) % this.limit]!);
    return out;
  }

  /** Yields (rv, event) pairs oldest first, for merging several histories. */
  entries(since: number): { rv: number; event: StoreEvent }[] {
    const events = this.after(since);
    const first = this.count - events.length;
    return events.map((event, k) => ({ rv: this.revisions[(this.start + first + k) % this.limit]!, event }));
  }

  clear(upTo: number): void {
    this.events.fill(undefined);
    this.start = 0;
    this.count = 0;
    this.evictedUpTo = upTo;
  }
}

// ---------------------------------------------------------------------------

/** Creates an empty store (plus the system namespaces). */
export function createObjectStore(options: ObjectStoreOptions = {}): SimObjectStore {
  const clock = options.clock ?? systemClock;
  const historyLimit = Math.max(1, options.historyLimit ?? 10_000);

  const slots = new Map<ResourceName, Slot>();
  const listeners = new Set<(event: StoreEvent) => void>();
  /** uid → where the object lives, for owner lookups. */
  const byUid = new Map<string, { resource: ResourceName; namespace: string; name: string }>();
  /** owner uid → dependent uids. */
  const dependents = new Map<string, Set<string>>();
  /** node name → pod keys "ns/name". */
  const podsByNode = new Map<string, Set<string>>();

  let revision = 0;
  /** Watch history per resource type; created on a type's first write. */
  const histories = new Map<ResourceName, ResourceHistory>();
  /** Versions at or before this are Expired for every resource (the expireHistory fault). */
  let expiredUpTo = 0;

  function historyOf(resource: ResourceName): ResourceHistory {
    let h = histories.get(resource);
    if (!h) histories.set(resource, (h = new ResourceHistory(historyLimit)));
    return h;
  }

  function slotFor(resource: ResourceName): Slot {
    const info = lookupResource(resource);
    const key = resourceName(info);
    let slot = slots.get(key);
    if (!slot) {
      slot = { info, byNamespace: new Map(), sortedNames: new Map() };
      slots.set(key, slot);
    }
    return slot;
  }

  function nsKey(info: ResourceInfo, namespace: string | undefined): string {
    return info.namespaced ? (namespace ?? "") : "";
  }

  function read(slot: Slot, namespace: string | undefined, name: string): KubeObject | undefined {
    return slot.byNamespace.get(nsKey(slot.info, namespace))?.get(name);
  }

  // --- indexes ------------------------------------------------------------

  function indexAdd(resource: ResourceName, o: KubeObject): void {
    const uid = o.metadata.uid!;
    byUid.set(uid, { resource, namespace: o.metadata.namespace ?? "", name: o.metadata.name! });
    for (const ref of o.metadata.ownerReferences ?? []) {
      let set = dependents.get(ref.uid);
      if (!set) dependents.set(ref.uid, (set = new Set()));
      set.add(uid);
    }
    if (o.kind === "Pod") {
      const node = o.spec?.nodeName;
      if (typeof node === "string" && node !== "") {
        let set = podsByNode.get(node);
        if (!set) podsByNode.set(node, (set = new Set()));
        set.add(`${o.metadata.namespace}/${o.metadata.name}`);
      }
    }
  }

  function indexRemove(o: KubeObject): void {
    const uid = o.metadata.uid!;
    byUid.delete(uid);
    for (const ref of o.metadata.ownerReferences ?? []) {
      const set = dependents.get(ref.uid);
      set?.delete(uid);
      if (set?.size === 0) dependents.delete(ref.uid);
    }
    if (o.kind === "Pod") {
      const node = o.spec?.nodeName;
      if (typeof node === "string") {
        const set = podsByNode.get(node);
        set?.delete(`${o.metadata.namespace}/${o.metadata.name}`);
        if (set?.size === 0) podsByNode.delete(node);
      }
    }
  }

  // --- commit -------------------------------------------------------------

  function commit(
    slot: Slot,
    type: StoreEvent["type"],
    next: KubeObject,
    previous: KubeObject | undefined,
  ): KubeObject {
    revision++;
    next.metadata.resourceVersion = String(revision);
    deepFreeze(next);
    const ns = nsKey(slot.info, next.metadata.namespace);
    const name = next.metadata.name!;
    if (previous) indexRemove(previous);
    if (type === "DELETED") {
      const bucket = slot.byNamespace.get(ns);
      bucket?.delete(name);
      slot.sortedNames.delete(ns);
      if (bucket?.size === 0) {
        slot.byNamespace.delete(ns);
        slot.sortedNamespaces = undefined;
      }
    } else {
      let bucket = slot.byNamespace.get(ns);
      if (!bucket) {
        slot.byNamespace.set(ns, (bucket = new Map<string, KubeObject>()));
        slot.sortedNamespaces = undefined;
      }
      if (!previous) slot.sortedNames.delete(ns);
      bucket.set(name, next);
      indexAdd(resourceName(slot.info), next);
    }
    const resource = resourceName(slot.info);
    const event: StoreEvent = previous
      ? { type, resource, object: next, previous }
      : { type, resource, object: next };
    historyOf(resource).push(revision, event);
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        // A failing listener must not undo a committed write or starve the others.
        queueMicrotask(() => {
          throw new Error(`store listener failed on ${type} ${event.resource} ${name}`, { cause: err });
        });
      }
    }
    return next;
  }

  // --- selectors ------------------------------------------------------------

  function compileFilter(resource: ResourceName, opts: ListOptions): (o: KubeObject) => boolean {
    const info = lookupResource(resource);
    const labels = parseLabelSelector(opts.labelSelector);
    const fields = parseFieldSelector(opts.fieldSelector);
    const getters = new Map<string, (o: KubeObject) => string>();
    for (const f of fields) {
      const getter = fieldGetter(info, f.field);
      if (typeof getter === "string") throw badRequest(getter);
      getters.set(f.field, getter);
    }
    const namespace = info.namespaced && opts.namespace ? opts.namespace : undefined;
    return (o) =>
      (namespace === undefined || o.metadata.namespace === namespace) &&
      matchesLabelRequirements(labels, o.metadata.labels) &&
      matchesFieldRequirements(fields, (field) => getters.get(field)!(o));
  }

  // --- namespace checks ------------------------------------------------------

  function requireNamespace(info: ResourceInfo, namespace: string | undefined): string | undefined {
    if (!info.namespaced) return undefined;
    if (namespace === undefined || namespace === "")
      throw badRequest("an empty namespace may not be set during creation");
    if (!read(slotFor("namespaces"), undefined, namespace))
      throw notFound({ group: "", resource: "namespaces" }, namespace);
    return namespace;
  }

  // --- public API -------------------------------------------------------------

  function get(resource: ResourceName, namespace: string | undefined, name: string): KubeObject | undefined {
    return read(slotFor(resource), namespace, name);
  }

  function list(
    resource: ResourceName,
    opts: ListOptions = {},
  ): { items: KubeObject[]; resourceVersion: string } {
    const slot = slotFor(resource);
    const filter = compileFilter(resource, opts);
    const items: KubeObject[] = [];
    const collect = (ns: string): void => {
      const bucket = slot.byNamespace.get(ns);
      if (!bucket) return;
      let names = slot.sortedNames.get(ns);
      if (!names) slot.sortedNames.set(ns, (names = [...bucket.keys()].sort(compareStrings)));
      for (const name of names) {
        const o = bucket.get(name)!;
        if (filter(o)) items.push(o);
      }
    };
    // Fast path: pods by node, the way kubelets list.
    const nodeTerm =
      slot.info.kind === "Pod" ? /^spec\.nodeName==?([^,!\\]+)$/.exec(opts.fieldSelector ?? "") : null;
    if (nodeTerm) {
      for (const key of podsByNode.get(nodeTerm[1]!) ?? []) {
        const [ns, name] = key.split("/") as [string, string];
        const o = slot.byNamespace.get(ns)?.get(name);
        if (o && filter(o)) items.push(o);
      }
      // etcd returns keys in order: namespace, then name.
      items.sort(
        (a, b) =>
          compareStrings(a.metadata.namespace ?? "", b.metadata.namespace ?? "") ||
          compareStrings(a.metadata.name!, b.metadata.name!),
      );
    } else if (slot.info.namespaced && opts.namespace) {
      collect(opts.namespace);
    } else {
      slot.sortedNamespaces ??= [...slot.byNamespace.keys()].sort(compareStrings);
      for (const ns of slot.sortedNamespaces) collect(ns);
    }
    return { items, resourceVersion: String(revision) };
  }

  function create(resource: ResourceName, input: KubeObject): KubeObject {
    const slot = slotFor(resource);
    return commit(slot, "ADDED", prepareCreate(slot, input), undefined);
  }

  function previewCreate(resource: ResourceName, input: KubeObject): KubeObject {
    return prepareCreate(slotFor(resource), input);
  }

  /** Every rule of a create (naming, metadata, defaults, validation) short of storing the object. */
  function prepareCreate(slot: Slot, input: KubeObject): KubeObject {
    const info = slot.info;
    const o = cloneJson(input);
    o.apiVersion = apiVersionOf(info);
    o.kind = info.kind;
    o.metadata = o.metadata ?? {};
    const meta = o.metadata;
    const namespace = requireNamespace(info, meta.namespace);
    if (namespace === undefined) delete meta.namespace;
    else meta.namespace = namespace;

    if ((meta.name === undefined || meta.name === "") && meta.generateName) {
      // Retry like the API server does (RetryGenerateName) so collisions stay invisible.
      for (let attempt = 0; attempt < 8; attempt++) {
        meta.name = meta.generateName + randomSuffix();
        if (!read(slot, namespace, meta.name)) break;
      }
    }
    const nameErrors = validateName(info, meta.name);
    if (nameErrors.length > 0)
      throw invalid({ group: info.group, kind: info.kind }, meta.name ?? "", nameErrors);
    const name = meta.name!;
    if (read(slot, namespace, name)) throw alreadyExists(qualified(info), name);

    meta.uid = randomUUID();
    meta.creationTimestamp = formatTimestamp(clock.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    // Leaving managedFields out keeps kubectl from migrating client-side apply state.
    delete meta.managedFields;
    delete meta.selfLink;
    if (info.hasGeneration) meta.generation = 1;
    else delete meta.generation;
    if (info.kind === "DaemonSet") {
      meta.annotations = { ...meta.annotations, "deprecated.daemonset.template.generation": "1" };
    }
    applyDefaults(info.kind, o);
    if (hasStatusSubresource(info)) {
      const status = initialStatus(info.kind, o);
      if (status === undefined) delete o.status;
      else o.status = status;
    }
    const errors = validateObject(info, o, undefined);
    if (errors.length > 0) throw invalid({ group: info.group, kind: info.kind }, name, errors);
    return o;
  }

  function update(
    resource: ResourceName,
    input: KubeObject,
    opts: { subresource?: "status" } = {},
  ): KubeObject {
    const slot = slotFor(resource);
    const info = slot.info;
    const name = input.metadata?.name ?? "";
    const namespace = info.namespaced ? input.metadata?.namespace : undefined;
    const existing = read(slot, namespace, name);
    if (!existing) throw notFound(qualified(info), name);
    const wantedRv = input.metadata.resourceVersion;
    if (wantedRv !== undefined && wantedRv !== "" && wantedRv !== existing.metadata.resourceVersion) {
      throw conflict(qualified(info), name);
    }
    const wantedUid = input.metadata.uid;
    if (wantedUid !== undefined && wantedUid !== "" && wantedUid !== existing.metadata.uid) {
      throw conflict(
        qualified(info),
        name,
        `Precondition failed: UID in precondition: ${wantedUid}, UID in object meta: ${existing.metadata.uid}`,
      );
    }

    let next: KubeObject;
    if (opts.subresource === "status") {
      if (!hasStatusSubresource(info)) throw notFound(qualified(info), name);
      // ResetObjectMetaForStatus: a status write changes nothing but status. Stored
      // objects are frozen, so the new version shares everything else with the old one.
      next = { ...existing, metadata: { ...existing.metadata } };
      const status = cloneJson(input.status);
      if (status === undefined) delete next.status;
      else next.status = status;
    } else {
      next = cloneJson(input);
      next.apiVersion = existing.apiVersion;
      next.kind = existing.kind;
      const meta = next.metadata;
      const old = existing.metadata;
      // System-owned metadata is not the client's to change.
      meta.name = old.name;
      if (old.namespace === undefined) delete meta.namespace;
      else meta.namespace = old.namespace;
      meta.uid = old.uid;
      meta.creationTimestamp = old.creationTimestamp;
      for (const key of ["deletionTimestamp", "deletionGracePeriodSeconds", "generation"] as const) {
        if (old[key] === undefined) delete meta[key];
        else (meta as Record<string, unknown>)[key] = old[key];
      }
      delete meta.managedFields;
      delete meta.selfLink;
      if (old.generateName === undefined) delete meta.generateName;
      else meta.generateName = old.generateName;
      if (hasStatusSubresource(info)) {
        // Shared with the previous version: it is frozen.
        if (existing.status === undefined) delete next.status;
        else next.status = existing.status;
      }
      applyDefaults(info.kind, next);
      if (info.kind === "DaemonSet") {
        const templateGeneration = Number(
          old.annotations?.["deprecated.daemonset.template.generation"] ?? "1",
        );
        const templateChanged = !isDeepStrictEqual(next.spec?.template, existing.spec?.template);
        meta.annotations = {
          ...meta.annotations,
          "deprecated.daemonset.template.generation": String(
            templateChanged ? templateGeneration + 1 : templateGeneration,
          ),
        };
      }
      if (info.hasGeneration && !isDeepStrictEqual(next.spec, existing.spec)) {
        meta.generation = (old.generation ?? 0) + 1;
      }
      const errors = validateObject(info, next, existing);
      if (errors.length > 0) throw invalid({ group: info.group, kind: info.kind }, name, errors);
    }

    // A write that changes nothing is not a write: same resourceVersion, no event.
    next.metadata.resourceVersion = existing.metadata.resourceVersion;
    if (isDeepStrictEqual(next, existing)) return existing;

    // The last finalizer removed from an object whose deletion is due completes the deletion.
    if (
      next.metadata.deletionTimestamp !== undefined &&
      (existing.metadata.finalizers ?? []).length > 0 &&
      (next.metadata.finalizers ?? []).length === 0 &&
      (next.metadata.deletionGracePeriodSeconds ?? 0) === 0
    ) {
      // The real registry turns this update into the deletion: one DELETED event, no MODIFIED.
      return removeNow(slot, next, existing, { propagationPolicy: "Background" });
    }
    return commit(slot, "MODIFIED", next, existing);
  }

  /** Removes the object for good, then collects its dependents. */
  function removeNow(slot: Slot, final: KubeObject, existing: KubeObject, opts: DeleteOptions): KubeObject {
    const gone = Object.isFrozen(final) ? { ...final, metadata: { ...final.metadata } } : final;
    const removed = commit(slot, "DELETED", gone, existing);
    collectGarbage(existing.metadata.uid!, opts.propagationPolicy ?? "Background");
    return removed;
  }

  function collectGarbage(ownerUid: string, policy: NonNullable<DeleteOptions["propagationPolicy"]>): void {
    const dependentUids = [...(dependents.get(ownerUid) ?? [])];
    for (const uid of dependentUids) {
      const where = byUid.get(uid);
      if (!where) continue;
      const slot = slotFor(where.resource);
      const dependent = read(slot, where.namespace, where.name);
      if (!dependent) continue;
      const refs: OwnerReference[] = dependent.metadata.ownerReferences ?? [];
      const liveOwners = refs.filter((r) => r.uid !== ownerUid && byUid.has(r.uid));
      if (policy === "Orphan" || liveOwners.length > 0) {
        // Keep the dependent; drop the dangling reference as the garbage collector does.
        const next = { ...dependent, metadata: { ...dependent.metadata } };
        next.metadata.ownerReferences = refs.filter((r) => r.uid !== ownerUid);
        if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
        commit(slot, "MODIFIED", next, dependent);
      } else {
        deleteObject(slot, dependent, { propagationPolicy: "Background" });
      }
    }
  }

  function deleteObject(slot: Slot, existing: KubeObject, opts: DeleteOptions): KubeObject {
    const info = slot.info;
    const name = existing.metadata.name!;
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== existing.metadata.uid) {
      throw conflict(
        qualified(info),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`,
      );
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(
        qualified(info),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`,
      );
    }
    if (info.kind === "Namespace") {
      // The namespace controller empties a namespace before it goes away (pods without a grace period).
      for (const [key, other] of slots) {
        if (!other.info.namespaced) continue;
        for (const o of [...(other.byNamespace.get(name)?.values() ?? [])]) {
          if (read(other, o.metadata.namespace, o.metadata.name!))
            deleteObject(slotFor(key), o, { propagationPolicy: "Background", gracePeriodSeconds: 0 });
        }
      }
    }
    const grace = info.kind === "Pod" ? podGracePeriod(existing, opts.gracePeriodSeconds) : 0;
    const terminating = existing.metadata.deletionTimestamp !== undefined;
    if (grace > 0) {
      // Graceful pod deletion: Terminating until the kubelet has stopped the containers.
      if (terminating) return existing;
      const next = { ...existing, metadata: { ...existing.metadata } };
      next.metadata.deletionTimestamp = formatTimestamp(clock.now() + grace * 1000);
      next.metadata.deletionGracePeriodSeconds = grace;
      return commit(slot, "MODIFIED", next, existing);
    }
    if ((existing.metadata.finalizers ?? []).length > 0) {
      if (terminating && existing.metadata.deletionGracePeriodSeconds === 0) return existing;
      const next = { ...existing, metadata: { ...existing.metadata } };
      if (!terminating) next.metadata.deletionTimestamp = formatTimestamp(clock.now());
      next.metadata.deletionGracePeriodSeconds = 0;
      return commit(slot, "MODIFIED", next, existing);
    }
    return removeNow(slot, existing, existing, opts);
  }

  function del(
    resource: ResourceName,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): KubeObject {
    const slot = slotFor(resource);
    const existing = read(slot, namespace, name);
    if (!existing) throw notFound(qualified(slot.info), name);
    if (
      slot.info.kind === "Namespace" &&
      (["default", "kube-system", "kube-public"] as string[]).includes(name)
    ) {
      throw forbidden(qualified(slot.info), name, "this namespace may not be deleted");
    }
    return deleteObject(slot, existing, opts);
  }

  function deleteCollection(resource: ResourceName, opts: ListOptions & DeleteOptions = {}): KubeObject[] {
    const { items } = list(resource, opts);
    const slot = slotFor(resource);
    const out: KubeObject[] = [];
    for (const o of items) {
      // An earlier deletion may have garbage-collected this one already.
      const current = read(slot, o.metadata.namespace, o.metadata.name!);
      if (current) out.push(deleteObject(slot, current, opts));
    }
    return out;
  }

  function eventsSince(resourceVersion: string, resource?: ResourceName): StoreEvent[] {
    if (!/^\d+$/.test(resourceVersion))
      throw badRequest(`invalid resource version: ${JSON.stringify(resourceVersion)}`);
    const since = Number(resourceVersion);
    if (since >= revision) return [];
    if (resource !== undefined) {
      const h = histories.get(resourceName(lookupResource(resource)));
      const floor = Math.max(expiredUpTo, h?.evictedUpTo ?? 0);
      if (since < floor) throw expired(resourceVersion, String(floor));
      return h?.after(since) ?? [];
    }
    // Every resource: each history must reach back far enough; merge them in order.
    const floor = Math.max(expiredUpTo, ...[...histories.values()].map((h) => h.evictedUpTo));
    if (since < floor) throw expired(resourceVersion, String(floor));
    return [...histories.values()]
      .flatMap((h) => h.entries(since))
      .sort((a, b) => a.rv - b.rv)
      .map((e) => e.event);
  }

  function dependentsOf(ownerUid: string): { resource: ResourceName; object: KubeObject }[] {
    const out: { resource: ResourceName; object: KubeObject }[] = [];
    for (const uid of dependents.get(ownerUid) ?? []) {
      const where = byUid.get(uid);
      if (!where) continue;
      const o = read(slotFor(where.resource), where.namespace, where.name);
      if (o) out.push({ resource: where.resource, object: o });
    }
    return out;
  }

  function bind(namespace: string, name: string, nodeName: string): KubeObject {
    const slot = slotFor("pods");
    const existing = read(slot, namespace, name);
    if (!existing) throw notFound(qualified(slot.info), name);
    const bound = existing.spec?.nodeName;
    if (typeof bound === "string" && bound !== "") {
      throw conflict(qualified(slot.info), name, `pod ${name} is already assigned to node "${bound}"`);
    }
    const next = { ...existing, metadata: { ...existing.metadata } };
    next.spec = { ...next.spec, nodeName };
    const status = (next.status = { ...next.status });
    const conditions = (
      Array.isArray(status.conditions) ? [...(status.conditions as unknown[])] : []
    ) as Record<string, unknown>[];
    const scheduled = {
      type: "PodScheduled",
      status: "True",
      lastProbeTime: null,
      lastTransitionTime: formatTimestamp(clock.now()),
    };
    const i = conditions.findIndex((c) => c.type === "PodScheduled");
    if (i >= 0) conditions[i] = scheduled;
    else conditions.push(scheduled);
    status.conditions = conditions;
    return commit(slot, "MODIFIED", next, existing);
  }

  const store: SimObjectStore = {
    bind,
    get,
    list,
    create,
    previewCreate,
    update,
    delete: del,
    deleteCollection,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    currentResourceVersion: () => String(revision),
    eventsSince,
    expireHistory() {
      expiredUpTo = revision;
      for (const h of histories.values()) h.clear(revision);
    },
    matches(resource, object, opts) {
      return compileFilter(resource, opts)(object);
    },
    compileFilter,
    podsOnNode(nodeName) {
      const slot = slotFor("pods");
      const out: KubeObject[] = [];
      for (const key of podsByNode.get(nodeName) ?? []) {
        const [ns, name] = key.split("/") as [string, string];
        const o = slot.byNamespace.get(ns)?.get(name);
        if (o) out.push(o);
      }
      return out;
    },
    dependentsOf,
  };

  for (const ns of options.namespaces ?? SYSTEM_NAMESPACES) {
    store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  }
  return store;
}

export { ApiError };
