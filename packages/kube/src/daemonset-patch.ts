// Changing one environment variable of a sensor DaemonSet's capture container,
// and following the rollout that the change starts. The patch is a strategic
// merge patch (env entries merge by name), so every other variable, container
// and field of the template stays as it is.

import {
  ApiException,
  AppsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import { systemClock, type Clock } from "./clock.ts";
import { createInformer, type Informer } from "./informer.ts";
import {
  SENSOR_ENV_MARKER,
  trimSensorDaemonSet,
  type KubeDaemonSet,
  type SensorContainer,
} from "./objects.ts";
import { createKubeTransport, describe, KubeRequestError, type FetchLike } from "./transport.ts";

export interface DaemonSetRef {
  namespace: string;
  name: string;
}

const itemPath = (ref: DaemonSetRef) =>
  `/apis/apps/v1/namespaces/${encodeURIComponent(ref.namespace)}/daemonsets/${encodeURIComponent(ref.name)}`;

/** The capture container of a sensor DaemonSet: the one carrying the osSensor contract (VSENSOR_HOSTNAME). */
export function findCaptureContainer(daemonSet: KubeDaemonSet): SensorContainer | undefined {
  return daemonSet.template.containers.find((container) => SENSOR_ENV_MARKER in container.env);
}

/**
 * The literal value of `variable` in the capture container's template env:
 * `null` when the variable is absent, `undefined` when there is no capture container.
 * A value from a reference (`valueFrom`) reads as its summary.
 */
export function readTemplateEnv(daemonSet: KubeDaemonSet, variable: string): string | null | undefined {
  const container = findCaptureContainer(daemonSet);
  if (!container) return undefined;
  const entry = container.env[variable];
  if (!entry) return null;
  return entry.value ?? entry.valueFrom ?? "";
}

export interface RolloutProgress {
  /** The controller has seen the current generation (status.observedGeneration ≥ metadata.generation). */
  observed: boolean;
  desired: number;
  updated: number;
  ready: number;
  available: number;
  /** What `kubectl rollout status` waits for: observed, every pod updated and available. */
  complete: boolean;
}

/** Where the DaemonSet's rolling update stands, from its status. */
export function daemonSetRolloutProgress(daemonSet: KubeDaemonSet): RolloutProgress {
  const observed = (daemonSet.observedGeneration ?? 0) >= daemonSet.generation;
  const { desired, updated, ready, available } = daemonSet.status;
  return {
    observed,
    desired,
    updated,
    ready,
    available,
    complete: observed && updated === desired && available === desired,
  };
}

/** One sensor DaemonSet as it is now, or null when there is none by that name. Not a sensor's: an error. */
export async function readSensorDaemonSet(
  options: DaemonSetRef & { kubeConfig: KubeConfig; fetch?: FetchLike | undefined; signal?: AbortSignal },
): Promise<KubeDaemonSet | null> {
  const transport = createKubeTransport({ kubeConfig: options.kubeConfig, fetch: options.fetch });
  let raw: unknown;
  try {
    raw = await transport.getJson(itemPath(options), { signal: options.signal });
  } catch (error) {
    if (error instanceof KubeRequestError && error.status === 404) return null;
    throw error;
  }
  const daemonSet = trimSensorDaemonSet(raw);
  if (!daemonSet)
    throw new Error(
      `DaemonSet ${options.namespace}/${options.name} is not a sensor's (no ${SENSOR_ENV_MARKER} in any container)`,
    );
  return daemonSet;
}

/** Every sensor DaemonSet of the cluster, in any namespace (the inventory's rule: isSensorDaemonSet). */
export async function listSensorDaemonSets(options: {
  kubeConfig: KubeConfig;
  fetch?: FetchLike | undefined;
  signal?: AbortSignal;
}): Promise<KubeDaemonSet[]> {
  const transport = createKubeTransport({ kubeConfig: options.kubeConfig, fetch: options.fetch });
  const found: KubeDaemonSet[] = [];
  let next: string | undefined;
  do {
    const query = new URLSearchParams({ limit: "500" });
    if (next) query.set("continue", next);
    const body = (await transport.getJson(`/apis/apps/v1/daemonsets?${query.toString()}`, {
      signal: options.signal,
    })) as { items?: unknown[]; metadata?: { continue?: string } };
    for (const item of body.items ?? []) {
      const daemonSet = trimSensorDaemonSet(item);
      if (daemonSet) found.push(daemonSet);
    }
    next = body.metadata?.continue || undefined;
  } while (next);
  return found.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

export interface SetDaemonSetEnvOptions extends DaemonSetRef {
  kubeConfig: KubeConfig;
  /** The container to change (see findCaptureContainer). */
  container: string;
  variable: string;
  /** The new value, or null to remove the variable. */
  value: string | null;
  /**
   * Refuse (409 Conflict) when the DaemonSet changed since this version was read:
   * the caller decided on what it saw, so a change in between must be seen first.
   */
  resourceVersion?: string | undefined;
}

/**
 * Sets (or removes) one variable of one container of a DaemonSet's pod
 * template with a strategic merge patch. The DaemonSet controller then rolls
 * the pods. Resolves with the DaemonSet as patched.
 */
export async function setDaemonSetEnv(options: SetDaemonSetEnvOptions): Promise<KubeDaemonSet> {
  const entry =
    options.value === null
      ? { name: options.variable, $patch: "delete" }
      : { name: options.variable, value: options.value };
  // The typed client sends a JSON patch unless told otherwise; KubernetesObjectApi.patch would
  // serialize the body through the typed model and drop the `$patch: delete` directive.
  const patch = {
    ...(options.resourceVersion ? { metadata: { resourceVersion: options.resourceVersion } } : {}),
    spec: { template: { spec: { containers: [{ name: options.container, env: [entry] }] } } },
  };
  const api = options.kubeConfig.makeApiClient(AppsV1Api);
  let patched: unknown;
  try {
    patched = await api.patchNamespacedDaemonSet(
      { name: options.name, namespace: options.namespace, body: patch, fieldManager: "tapfleet" },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
  } catch (error) {
    const what = `${options.value === null ? "removing" : "setting"} ${options.variable} on DaemonSet ${options.namespace}/${options.name}`;
    if (error instanceof ApiException) {
      const body = parseStatus(error.body);
      throw new KubeRequestError(`${what}: ${error.code} ${body.reason ?? ""} ${body.message ?? ""}`.trim(), {
        status: error.code,
        reason: body.reason,
        cause: error,
      });
    }
    throw new KubeRequestError(`${what}: ${describe(error)}`, { status: 0, cause: error });
  }
  const trimmed = trimSensorDaemonSet(patched);
  if (!trimmed) throw new Error(`DaemonSet ${options.namespace}/${options.name} is no longer a sensor's`);
  return trimmed;
}

function parseStatus(body: unknown): { reason?: string; message?: string } {
  try {
    const parsed = (typeof body === "string" ? JSON.parse(body) : body) as Record<string, unknown>;
    return {
      ...(typeof parsed.reason === "string" ? { reason: parsed.reason } : {}),
      ...(typeof parsed.message === "string" ? { message: parsed.message } : {}),
    };
  } catch {
    return {};
  }
}

export interface WatchDaemonSetOptions extends DaemonSetRef {
  kubeConfig: KubeConfig;
  fetch?: FetchLike | undefined;
  clock?: Clock | undefined;
  /** Called with the DaemonSet after every change, and with null when it is deleted. */
  onChange(daemonSet: KubeDaemonSet | null): void;
}

/**
 * Follows one DaemonSet (list + watch by name, with the informer's restarts and
 * backoff): a rollout's progress arrives as events, without polling.
 */
export function watchDaemonSet(options: WatchDaemonSetOptions): Informer<KubeDaemonSet> {
  const transport = createKubeTransport({ kubeConfig: options.kubeConfig, fetch: options.fetch });
  const base = `/apis/apps/v1/namespaces/${encodeURIComponent(options.namespace)}/daemonsets`;
  const fieldSelector = `metadata.name=${options.name}`;
  const informer = createInformer<KubeDaemonSet>({
    name: `DaemonSet ${options.namespace}/${options.name}`,
    clock: options.clock ?? systemClock,
    trim: trimSensorDaemonSet,
    async list(request) {
      const query = new URLSearchParams({ fieldSelector, limit: String(request.limit) });
      if (request.continue) query.set("continue", request.continue);
      const body = (await transport.getJson(`${base}?${query.toString()}`, { signal: request.signal })) as {
        items?: unknown[];
        metadata?: { resourceVersion?: string; continue?: string };
      };
      return {
        items: body.items ?? [],
        resourceVersion: body.metadata?.resourceVersion ?? "",
        continue: body.metadata?.continue,
      };
    },
    watch(request) {
      const query = new URLSearchParams({
        fieldSelector,
        watch: "true",
        allowWatchBookmarks: "true",
        resourceVersion: request.resourceVersion,
        timeoutSeconds: String(request.timeoutSeconds),
      });
      return transport.getLines(`${base}?${query.toString()}`, { signal: request.signal });
    },
  });
  informer.subscribe((event) => {
    if (event.type === "added" || event.type === "updated") options.onChange(event.object);
    else if (event.type === "deleted") options.onChange(null);
  });
  return informer;
}
