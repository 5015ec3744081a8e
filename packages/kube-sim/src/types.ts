// Shared types of the simulator: the object store that the HTTP layer serves and
// the controllers (DaemonSet controller, kubelet) read and write in-process.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Any Kubernetes object, as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown> | undefined;
  status?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

/**
 * A resource type, named the way the API names it in URLs and errors:
 * `pods`, `nodes`, `daemonsets.apps`, `clusterroles.rbac.authorization.k8s.io`.
 */
export type ResourceName = string;

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: WatchEventType;
  resource: ResourceName;
  /** The object after the change (for DELETED: as it was, with the deletion's resourceVersion). */
  object: KubeObject;
  /**
   * The object before the change (MODIFIED and DELETED), as the API server's
   * watch cache keeps it: a selector-filtered watch compares old and new to send
   * an object leaving the selection as DELETED and one entering it as ADDED.
   */
  previous?: KubeObject | undefined;
}

export interface ListOptions {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

/** Injectable time source so tests control delays. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

// NOTE(kube-sim-core): `createObjectStore` (store.ts) returns `SimObjectStore`, which
// extends ObjectStore compatibly: delete options (propagationPolicy, preconditions),
// deleteCollection, previewCreate (dry run), eventsSince(rv, resource?) (throws a 410 Expired ApiError),
// expireHistory(), compileFilter(resource, listOptions) for filtering watch events,
// podsOnNode(). Objects it returns (get/list/events) are deeply frozen and shared:
// clone (structuredClone) before modifying. The resource table is RESOURCES in
// resources.ts (re-exported from store.ts), including services and leases.

/**
 * The in-memory object store of one simulated cluster. Synchronous, in-process.
 * Every write assigns a new global resourceVersion and emits one StoreEvent.
 * Errors are thrown as `ApiError` (see errors.ts) carrying the Status object a
 * real API server would send.
 */
export interface ObjectStore {
  get(resource: ResourceName, namespace: string | undefined, name: string): KubeObject | undefined;
  list(resource: ResourceName, options?: ListOptions): { items: KubeObject[]; resourceVersion: string };
  /** Assigns uid, resourceVersion, creationTimestamp, generation 1, name from generateName. */
  create(resource: ResourceName, object: KubeObject): KubeObject;
  /**
   * Replaces the object. With `metadata.resourceVersion` set and stale: 409 Conflict.
   * `subresource: "status"` keeps the stored spec/metadata and takes only status;
   * otherwise the stored status is kept and generation bumps when spec changed.
   */
  update(resource: ResourceName, object: KubeObject, options?: { subresource?: "status" }): KubeObject;
  /** Deletes; dependents with an ownerReference to it are garbage-collected (background). */
  delete(resource: ResourceName, namespace: string | undefined, name: string): KubeObject;
  /** Listener is called synchronously after every committed write. Returns unsubscribe. */
  subscribe(listener: (event: StoreEvent) => void): () => void;
  /** The current (latest) resourceVersion. */
  currentResourceVersion(): string;
}
