// Applying and deleting a set of rendered objects through the Kubernetes API:
// server-side apply with the field manager `tapfleet`, each object carrying
// kubectl's last-applied annotation as `kubectl apply -f` of the same YAML
// would record it (so a GitOps user's kubectl and Tapfleet agree), in the
// order given; a failure midway deletes what this call created. Deletion
// names each object's uid as a precondition, so only the very object that was
// applied is removed.

import { HttpMethod, RequestContext, type KubeConfig } from "@kubernetes/client-node";
import type { KubeObject } from "@tapfleet/sensor/manifests";
import { fetch as undiciFetch } from "undici";
import { describe, KubeRequestError, type FetchLike, type FetchResponse } from "../transport.ts";
import { withLastApplied } from "./last-applied.ts";

/** The field manager Tapfleet applies with. */
export const FIELD_MANAGER = "tapfleet";

/** Which object: enough to find it again, and its uid to be sure it is the same one. */
export interface KubeObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
  uid: string;
}

export interface AppliedObject extends KubeObjectRef {
  /** True when this apply created the object; false when it existed and was updated. */
  created: boolean;
}

/** The resource (plural) of each kind Tapfleet applies, and whether it lives in a namespace. */
const RESOURCES: Record<string, { plural: string; namespaced: boolean }> = {
  "v1/Namespace": { plural: "namespaces", namespaced: false },
  "v1/ServiceAccount": { plural: "serviceaccounts", namespaced: true },
  "v1/Secret": { plural: "secrets", namespaced: true },
  "v1/ConfigMap": { plural: "configmaps", namespaced: true },
  "v1/Service": { plural: "services", namespaced: true },
  "v1/Pod": { plural: "pods", namespaced: true },
  "rbac.authorization.k8s.io/v1/ClusterRole": { plural: "clusterroles", namespaced: false },
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": { plural: "clusterrolebindings", namespaced: false },
  "apps/v1/DaemonSet": { plural: "daemonsets", namespaced: true },
  "networking.k8s.io/v1/NetworkPolicy": { plural: "networkpolicies", namespaced: true },
};

/** The API path of an object (or, without a name, of its collection). */
export function objectPath(object: {
  apiVersion: string;
  kind: string;
  name?: string | undefined;
  namespace?: string | undefined;
}): string {
  const resource = RESOURCES[`${object.apiVersion}/${object.kind}`];
  if (resource === undefined)
    throw new Error(`objectPath: ${object.apiVersion} ${object.kind} is not supported`);
  const base = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  if (resource.namespaced && !object.namespace)
    throw new Error(`objectPath: a ${object.kind} needs a namespace`);
  const scope = resource.namespaced ? `/namespaces/${encodeURIComponent(object.namespace!)}` : "";
  const name = object.name === undefined ? "" : `/${encodeURIComponent(object.name)}`;
  return `${base}${scope}/${resource.plural}${name}`;
}

/** "DaemonSet tapfleet-sensor/tapfleet-sensor", for messages. */
export function describeObject(object: {
  kind: string;
  name: string;
  namespace?: string | undefined;
}): string {
  return `${object.kind} ${object.namespace ? `${object.namespace}/` : ""}${object.name}`;
}

export interface KubeClientOptions {
  kubeConfig: KubeConfig;
  fetch?: FetchLike | undefined;
  /**
   * Abandons the request when it aborts (a controller told to stop): the call
   * rejects at once with the signal's reason, also while the answer is read.
   */
  signal?: AbortSignal | undefined;
  /**
   * How long the cluster has to answer (the whole answer, body included) before the call fails as
   * "no answer": default 30 s. Without it a hung API server held a rollout's pass, or a drift
   * check, for as long as the HTTP client's own 5-minute limits.
   */
  timeoutMs?: number | undefined;
}

/** The default of KubeClientOptions.timeoutMs. */
export const KUBE_REQUEST_TIMEOUT_MS = 30_000;

/** One request with the kubeconfig's credentials; a non-2xx answer throws KubeRequestError with the Status message. */
/**
 * The undici dispatcher of each kubeconfig object, per cluster and user. client-node builds a new
 * Agent (TLS context, connection pool) on every applySecurityAuthentication: used as is, each
 * request opened a TLS connection of its own (a handshake on both sides) and left it open. A
 * caller that keeps its KubeConfig (the rollouts' runner keeps one per cluster for the leader's
 * term) now has its requests share kept-alive connections; a KubeConfig dropped takes its
 * dispatchers with it.
 */
const dispatchers = new WeakMap<KubeConfig, Map<string, unknown>>();

function sharedDispatcher(kubeConfig: KubeConfig, context: RequestContext): unknown {
  const key = `${kubeConfig.getCurrentCluster()?.name ?? ""}\u0000${kubeConfig.getCurrentUser()?.name ?? ""}`;
  let byTarget = dispatchers.get(kubeConfig);
  if (!byTarget) dispatchers.set(kubeConfig, (byTarget = new Map<string, unknown>()));
  if (!byTarget.has(key)) byTarget.set(key, context.getDispatcher());
  return byTarget.get(key);
}

export async function kubeRequest(
  options: KubeClientOptions & {
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
    path: string;
    body?: unknown;
    contentType?: string;
  },
): Promise<unknown> {
  const cluster = options.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const url = cluster.server.replace(/\/+$/, "") + options.path;
  const context = new RequestContext(url, HttpMethod[options.method]);
  await options.kubeConfig.applySecurityAuthentication(context);
  const doFetch = options.fetch ?? (undiciFetch as unknown as FetchLike);
  const what = `${options.method} ${options.path}`;
  const timeoutMs = options.timeoutMs ?? KUBE_REQUEST_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const noAnswer = (error: unknown) =>
    new KubeRequestError(
      timeout.aborted
        ? `${what}: no answer from ${cluster.server} within ${timeoutMs / 1000} s`
        : `${what}: no answer from ${cluster.server}: ${describe(error)}`,
      { status: 0, cause: error },
    );
  let response: FetchResponse;
  let text: string;
  try {
    response = await (doFetch as (url: string, init: object) => Promise<FetchResponse>)(url, {
      method: options.method,
      headers: {
        ...context.getHeaders(),
        Accept: "application/json",
        ...(options.body === undefined ? {} : { "Content-Type": options.contentType ?? "application/json" }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      dispatcher: sharedDispatcher(options.kubeConfig, context),
      signal,
    });
    text = await response.text();
  } catch (error) {
    // Abandoned on purpose: not a cluster that does not answer.
    if (options.signal?.aborted) throw options.signal.reason;
    throw noAnswer(error);
  }
  if (response.status < 200 || response.status >= 300) {
    let reason: string | undefined;
    let message = text.trim().slice(0, 300);
    try {
      const status = JSON.parse(text) as { reason?: unknown; message?: unknown };
      if (typeof status.reason === "string") reason = status.reason;
      if (typeof status.message === "string") message = status.message;
    } catch {
      // not a Status object: keep the text
    }
    throw new KubeRequestError(message || `${what}: ${response.status} ${response.statusText}`, {
      status: response.status,
      reason,
    });
  }
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** The object as the cluster has it, or null when it does not exist. */
export async function readObject(
  options: KubeClientOptions & {
    object: { apiVersion: string; kind: string; name: string; namespace?: string | undefined };
  },
): Promise<(KubeObject & { metadata: { uid?: string } } & Record<string, unknown>) | null> {
  try {
    return (await kubeRequest({
      ...options,
      method: "GET",
      path: objectPath(options.object),
    })) as KubeObject & Record<string, unknown>;
  } catch (error) {
    if (error instanceof KubeRequestError && error.status === 404) return null;
    throw error;
  }
}

/** An apply that stopped at one object; what it had created before was deleted again (or could not be). */
export class ApplyFailure extends Error {
  /** The object the cluster refused. */
  readonly failed: { kind: string; name: string; namespace?: string | undefined };
  /** The cluster's refusal. */
  readonly refusal: KubeRequestError;
  /** Objects this apply created and then deleted again. */
  readonly rolledBack: KubeObjectRef[];
  /** Objects this apply created whose deletion failed too: they remain. */
  readonly left: KubeObjectRef[];

  constructor(options: {
    failed: { kind: string; name: string; namespace?: string | undefined };
    refusal: KubeRequestError;
    rolledBack: KubeObjectRef[];
    left: KubeObjectRef[];
  }) {
    const undone =
      options.rolledBack.length === 0
        ? "nothing had been created"
        : `removed again what had been created: ${options.rolledBack.map(describeObject).join(", ")}`;
    const remaining =
      options.left.length === 0 ? "" : `; could not remove: ${options.left.map(describeObject).join(", ")}`;
    super(`applying ${describeObject(options.failed)}: ${options.refusal.message} (${undone}${remaining})`, {
      cause: options.refusal,
    });
    this.name = "ApplyFailure";
    this.failed = options.failed;
    this.refusal = options.refusal;
    this.rolledBack = options.rolledBack;
    this.left = options.left;
  }
}

/**
 * Applies the objects in order (server-side apply, field manager `tapfleet`,
 * with kubectl's last-applied annotation). When the cluster refuses one,
 * deletes what this call created and throws ApplyFailure; objects that
 * existed before and were updated stay as they are now.
 */
export async function applyObjects(
  options: KubeClientOptions & { objects: readonly KubeObject[]; fieldManager?: string },
): Promise<AppliedObject[]> {
  const fieldManager = options.fieldManager ?? FIELD_MANAGER;
  const applied: AppliedObject[] = [];
  for (const object of options.objects) {
    const target = { ...object, name: object.metadata.name, namespace: object.metadata.namespace };
    try {
      const existing = await readObject({ ...options, object: target });
      const body = withLastApplied(object);
      const result = (await kubeRequest({
        ...options,
        method: "PATCH",
        path: `${objectPath(target)}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`,
        body,
        contentType: "application/apply-patch+yaml",
      })) as { metadata: { uid: string } };
      applied.push({
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }),
        uid: result.metadata.uid,
        created: existing === null,
      });
    } catch (error) {
      if (!(error instanceof KubeRequestError)) throw error;
      const created = applied.filter((item) => item.created).reverse();
      const { deleted, failed } = await deleteCreated(options, created);
      throw new ApplyFailure({ failed: target, refusal: error, rolledBack: deleted, left: failed });
    }
  }
  return applied;
}

async function deleteCreated(
  options: KubeClientOptions,
  created: KubeObjectRef[],
): Promise<{ deleted: KubeObjectRef[]; failed: KubeObjectRef[] }> {
  const deleted: KubeObjectRef[] = [];
  const failed: KubeObjectRef[] = [];
  for (const ref of created) {
    const outcome = await deleteObject({ ...options, object: ref });
    (outcome === "failed" ? failed : deleted).push(ref);
  }
  return { deleted, failed };
}

/**
 * Deletes one object if it is still the one with that uid. "deleted", "missing"
 * (already gone), "replaced" (another object of that name now; left alone),
 * or "failed" for a refusal — the refusal is thrown when `throwOnRefusal`.
 */
export async function deleteObject(
  options: KubeClientOptions & { object: KubeObjectRef; throwOnRefusal?: boolean },
): Promise<"deleted" | "missing" | "replaced" | "failed"> {
  try {
    await kubeRequest({
      ...options,
      method: "DELETE",
      path: objectPath(options.object),
      body: { propagationPolicy: "Background", preconditions: { uid: options.object.uid } },
    });
    return "deleted";
  } catch (error) {
    if (!(error instanceof KubeRequestError)) throw error;
    if (error.status === 404) return "missing";
    if (error.status === 409) return "replaced";
    if (options.throwOnRefusal === true) throw error;
    return "failed";
  }
}

/** The items of a list (`/api/v1/namespaces/x/configmaps`, say). */
export async function listObjects(
  options: KubeClientOptions & { path: string },
): Promise<Array<KubeObject & Record<string, unknown>>> {
  const list = (await kubeRequest({ ...options, method: "GET", path: options.path })) as {
    items?: Array<KubeObject & Record<string, unknown>>;
  };
  return list.items ?? [];
}
