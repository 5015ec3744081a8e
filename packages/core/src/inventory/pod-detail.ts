// Kubernetes detail for a sensor, read on demand through the cluster's stored
// connection: the node's inventory rows with their pods as the cluster has
// them now, the events of a DaemonSet, pod or node, and a pod's log (tail,
// previous container, followed live). Nothing here is watched or persisted.

import {
  createKubeTransport,
  KubeRequestError,
  listEvents,
  loadKubeConfig,
  readPodLog,
} from "@tapfleet/kube";
import { ZClusterIdSchema } from "@tapfleet/sensor/accounts";
import type { Db } from "@tapfleet/db";
import { z } from "zod";
import { getClusterConnection, openClusterConnection } from "../clusters/connection.ts";
import { AppError } from "../errors.ts";
import type { SecretBox } from "../secrets.ts";
import { ZCoverageStateSchema } from "./runtime/topic.ts";

// ---------------------------------------------------------------------------
// Inputs: one definition for the API, the REST routes and the dashboard's controls

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A node, pod or DaemonSet name (a DNS subdomain, as Kubernetes requires). */
export const ZKubeObjectNameSchema = z
  .string()
  .max(253, "must be at most 253 characters")
  .regex(DNS_SUBDOMAIN, "must be a Kubernetes name: lower-case letters, digits, '-' and '.'");

export const ZKubeNamespaceSchema = z
  .string()
  .max(63, "must be at most 63 characters")
  .regex(DNS_LABEL, "must be a Kubernetes namespace: lower-case letters, digits and '-'");

export const ZKubeContainerNameSchema = z
  .string()
  .max(63, "must be at most 63 characters")
  .regex(DNS_LABEL, "must be a container name: lower-case letters, digits and '-'");

/** The tail sizes the dashboard offers; any whole number up to the maximum is accepted. */
export const POD_LOG_TAIL_CHOICES = [100, 200, 1000, 5000] as const;
export const POD_LOG_DEFAULT_TAIL = 200;
export const POD_LOG_MAX_TAIL = 10_000;

export const ZPodLogTailSchema = z
  .number({ error: "must be a number of lines" })
  .int("must be a whole number of lines")
  .min(0, "must be 0 or more")
  .max(POD_LOG_MAX_TAIL, `must be at most ${POD_LOG_MAX_TAIL} lines`);

export const ZPodStatusInputSchema = z.object({
  clusterId: ZClusterIdSchema,
  nodeName: ZKubeObjectNameSchema,
});

export const KUBE_EVENT_KINDS = ["DaemonSet", "Pod", "Node"] as const;
export const ZKubeEventKindSchema = z.enum(KUBE_EVENT_KINDS, {
  error: `must be one of ${KUBE_EVENT_KINDS.join(", ")}`,
});

export const ZKubeEventsInputSchema = z.object({
  clusterId: ZClusterIdSchema,
  kind: ZKubeEventKindSchema,
  /** Where the object lives; omit for a node (its events may be in any namespace). */
  namespace: ZKubeNamespaceSchema.optional(),
  name: ZKubeObjectNameSchema,
});

export const ZPodLogInputSchema = z.object({
  clusterId: ZClusterIdSchema,
  namespace: ZKubeNamespaceSchema,
  pod: ZKubeObjectNameSchema,
  /** Needed only when the pod has several containers. */
  container: ZKubeContainerNameSchema.optional(),
  tail: ZPodLogTailSchema.default(POD_LOG_DEFAULT_TAIL),
  /** The container's previous run (before its last restart). */
  previous: z.boolean({ error: "must be true or false" }).default(false),
});
export type PodLogInput = z.input<typeof ZPodLogInputSchema>;

// ---------------------------------------------------------------------------
// Outputs

const ZTerminationSchema = z.object({
  reason: z.string().nullable(),
  message: z.string().nullable(),
  exitCode: z.number().int(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type PodTermination = z.infer<typeof ZTerminationSchema>;

export const ZPodContainerViewSchema = z.object({
  name: z.string(),
  image: z.string().nullable(),
  ready: z.boolean(),
  restartCount: z.number().int(),
  state: z.enum(["running", "waiting", "terminated", "unknown"]),
  /** The waiting or terminated reason (CrashLoopBackOff, Error…). */
  stateReason: z.string().nullable(),
  stateMessage: z.string().nullable(),
  startedAt: z.string().nullable(),
  /** The current run's end when it has ended, else the previous run's. */
  lastTermination: ZTerminationSchema.nullable(),
});
export type PodContainerView = z.infer<typeof ZPodContainerViewSchema>;

export const ZPodViewSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  phase: z.string().nullable(),
  ready: z.boolean(),
  reason: z.string().nullable(),
  message: z.string().nullable(),
  nodeName: z.string().nullable(),
  createdAt: z.string().nullable(),
  deleting: z.boolean(),
  restarts: z.number().int(),
  containers: z.array(ZPodContainerViewSchema),
});
export type PodView = z.infer<typeof ZPodViewSchema>;

export const ZNodePodStatusSchema = z.object({
  clusterId: z.string(),
  nodeName: z.string(),
  /** One per sensor DaemonSet that covers (or should cover) the node. */
  daemonSets: z.array(
    z.object({
      daemonSet: z.object({ namespace: z.string(), name: z.string() }),
      state: ZCoverageStateSchema,
      reason: z.string(),
      since: z.string(),
      stale: z.boolean(),
      podName: z.string().nullable(),
      /** The pod as the cluster has it now; null when the node has none or it is gone. */
      pod: ZPodViewSchema.nullable(),
      sensor: z.object({ id: z.string(), agentVersion: z.string(), lastSeenAt: z.string() }).nullable(),
    }),
  ),
});
export type NodePodStatus = z.infer<typeof ZNodePodStatusSchema>;

export const ZKubeEventViewSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  type: z.string().nullable(),
  reason: z.string().nullable(),
  message: z.string().nullable(),
  count: z.number().int(),
  firstSeen: z.string().nullable(),
  lastSeen: z.string().nullable(),
  /** The component that reported it, and its host when given ("kubelet on node-1"). */
  source: z.string().nullable(),
  involvedObject: z.object({ kind: z.string().nullable(), name: z.string().nullable() }),
});
export type KubeEventView = z.infer<typeof ZKubeEventViewSchema>;

/** One message of a followed log: a line, or the end of the log (the container exited). */
export type PodLogMessage = { type: "line"; line: string } | { type: "end" };

// ---------------------------------------------------------------------------
// The cluster's connection and its failures

interface ClusterAccess {
  db: Db;
  secrets: SecretBox;
  clusterId: string;
}

/**
 * The stored connection as a kubeconfig: a cluster without one (or with a
 * disabled one) is a CONFLICT naming it and saying how to connect it.
 */
async function connectCluster(options: ClusterAccess): Promise<ReturnType<typeof loadKubeConfig>> {
  const { clusterId } = options;
  const connection = await getClusterConnection({ db: options.db, clusterId });
  if (!connection)
    throw new AppError("CONFLICT", {
      userMessage: `The cluster "${clusterId}" has no Kubernetes connection: connect it on the Clusters page (or PUT /api/v1/clusters/${clusterId}/connection with a kubeconfig).`,
    });
  if (!connection.enabled)
    throw new AppError("CONFLICT", {
      userMessage: `The Kubernetes connection of cluster "${clusterId}" is disabled: enable it on the Clusters page (or PUT /api/v1/clusters/${clusterId}/connection/enabled).`,
    });
  const { kubeconfig } = await openClusterConnection(options);
  const kubeConfig = loadKubeConfig(kubeconfig);
  if (connection.context) kubeConfig.setCurrentContext(connection.context);
  return kubeConfig;
}

function kubeRequestErrorIn(error: unknown): KubeRequestError | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) if (e instanceof KubeRequestError) return e;
  return undefined;
}

/**
 * A failed request to the cluster as the error the caller gets: no answer or a
 * server failure is UNAVAILABLE with the reason, a missing object NOT_FOUND, a
 * refused request INVALID_INPUT with Kubernetes' words. Anything else is
 * unexpected and stays as it is (a 500).
 */
function clusterFailure(error: unknown, clusterId: string, what: string, missing = what): unknown {
  const failure = kubeRequestErrorIn(error);
  if (!failure) return error;
  // "GET /api/v1/…: 404 NotFound: pods "x" not found" → what Kubernetes said.
  const said = failure.message.replace(/^GET \S+: /, "");
  if (failure.status === 404)
    return new AppError("NOT_FOUND", {
      userMessage: `No ${missing} in cluster "${clusterId}".`,
      cause: error,
    });
  if (failure.status === 400 || failure.status === 422)
    return new AppError("INVALID_INPUT", {
      userMessage: `Kubernetes refused to read ${what}: ${said.replace(/^\d+ \w+: /, "")}`,
      cause: error,
    });
  if (failure.status === 401 || failure.status === 403)
    return new AppError("UNAVAILABLE", {
      userMessage: `The cluster "${clusterId}" refused Tapfleet's credentials for ${what}: ${said}`,
      cause: error,
    });
  return new AppError("UNAVAILABLE", {
    userMessage: `The cluster "${clusterId}" is unreachable: ${said}`,
    cause: error,
  });
}

// ---------------------------------------------------------------------------
// Pod status

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (v && typeof v === "object" && !Array.isArray(v) ? (v as Raw) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const int = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) ? v : null);

function termination(raw: unknown): PodTermination | null {
  const t = obj(raw);
  if (Object.keys(t).length === 0) return null;
  return {
    reason: str(t.reason),
    message: str(t.message),
    exitCode: int(t.exitCode) ?? 0,
    startedAt: str(t.startedAt),
    finishedAt: str(t.finishedAt),
  };
}

/** A pod from the API, trimmed to what the sensor page shows (image from the spec). */
export function toPodView(raw: unknown): PodView {
  const pod = obj(raw);
  const metadata = obj(pod.metadata);
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  const images = new Map(arr(spec.containers).map((c) => [str(obj(c).name), str(obj(c).image)]));
  const ready = arr(status.conditions)
    .map(obj)
    .find((c) => c.type === "Ready");
  const containers = arr(status.containerStatuses)
    .map(obj)
    .map((c): PodContainerView => {
      const state = obj(c.state);
      const name = str(c.name) ?? "";
      const current = state.running
        ? { state: "running" as const, detail: obj(state.running) }
        : state.waiting
          ? { state: "waiting" as const, detail: obj(state.waiting) }
          : state.terminated
            ? { state: "terminated" as const, detail: obj(state.terminated) }
            : { state: "unknown" as const, detail: {} as Raw };
      return {
        name,
        image: images.get(name) ?? str(c.image),
        ready: c.ready === true,
        restartCount: int(c.restartCount) ?? 0,
        state: current.state,
        stateReason: str(current.detail.reason),
        stateMessage: str(current.detail.message),
        startedAt: str(current.detail.startedAt),
        lastTermination: termination(state.terminated) ?? termination(obj(c.lastState).terminated),
      };
    });
  // Before the kubelet reports, the spec still names the containers and their images.
  for (const [name, image] of images)
    if (name !== null && !containers.some((c) => c.name === name))
      containers.push({
        name,
        image,
        ready: false,
        restartCount: 0,
        state: "unknown",
        stateReason: null,
        stateMessage: null,
        startedAt: null,
        lastTermination: null,
      });
  return {
    namespace: str(metadata.namespace) ?? "",
    name: str(metadata.name) ?? "",
    phase: str(status.phase),
    ready: ready?.status === "True",
    reason: str(status.reason),
    message: str(status.message),
    nodeName: str(spec.nodeName),
    createdAt: str(metadata.creationTimestamp),
    deleting: str(metadata.deletionTimestamp) !== null,
    restarts: containers.reduce((sum, c) => sum + c.restartCount, 0),
    containers,
  };
}

/**
 * A node's sensor coverage from the inventory, with each sensor pod as the
 * cluster has it now. A node the inventory does not know is NOT_FOUND.
 */
export async function getNodePodStatus(
  options: ClusterAccess & { nodeName: string },
): Promise<NodePodStatus> {
  const { db, clusterId, nodeName } = options;
  const kubeConfig = await connectCluster(options);
  const rows = await db.inventoryCoverage.findMany({
    where: { clusterId, nodeName },
    orderBy: [{ daemonSetNamespace: "asc" }, { daemonSetName: "asc" }],
  });
  if (rows.length === 0)
    throw new AppError("NOT_FOUND", {
      userMessage: `No node "${nodeName}" in the inventory of cluster "${clusterId}" (not listed yet, or no sensor DaemonSet covers it).`,
    });
  const sensorIds = rows.map((row) => row.sensorId).filter((id): id is string => id !== null);
  const sensors = new Map(
    (
      await db.sensor.findMany({
        where: { id: { in: sensorIds } },
        select: { id: true, agentVersion: true, lastSeenAt: true },
      })
    ).map((sensor) => [sensor.id, sensor]),
  );
  const transport = createKubeTransport({ kubeConfig });
  const daemonSets = await Promise.all(
    rows.map(async (row) => {
      let pod: PodView | null = null;
      if (row.podName !== null) {
        const path = `/api/v1/namespaces/${encodeURIComponent(row.daemonSetNamespace)}/pods/${encodeURIComponent(row.podName)}`;
        try {
          pod = toPodView(await transport.getJson(path));
        } catch (error) {
          // Replaced since the inventory saw it: the next inventory update names the new one.
          if (kubeRequestErrorIn(error)?.status !== 404)
            throw clusterFailure(error, clusterId, `pod ${row.daemonSetNamespace}/${row.podName}`);
        }
      }
      const sensor = row.sensorId === null ? undefined : sensors.get(row.sensorId);
      return {
        daemonSet: { namespace: row.daemonSetNamespace, name: row.daemonSetName },
        state: ZCoverageStateSchema.parse(row.state),
        reason: row.reason,
        since: row.since.toISOString(),
        stale: row.stale,
        podName: row.podName,
        pod,
        sensor: sensor
          ? { id: sensor.id, agentVersion: sensor.agentVersion, lastSeenAt: sensor.lastSeenAt.toISOString() }
          : null,
      };
    }),
  );
  return { clusterId, nodeName, daemonSets };
}

// ---------------------------------------------------------------------------
// Events

/** The events about a DaemonSet, a pod or a node, newest first. */
export async function listKubeObjectEvents(
  options: ClusterAccess & z.infer<typeof ZKubeEventsInputSchema>,
): Promise<KubeEventView[]> {
  const kubeConfig = await connectCluster(options);
  const what = `${options.kind} ${options.namespace ? `${options.namespace}/` : ""}${options.name}`;
  let events;
  try {
    events = await listEvents({
      kubeConfig,
      namespace: options.kind === "Node" ? undefined : options.namespace,
      involvedObject: { kind: options.kind, name: options.name },
    });
  } catch (error) {
    throw clusterFailure(error, options.clusterId, `events of ${what}`);
  }
  return events.reverse().map((event) => ({
    namespace: event.namespace,
    name: event.name,
    type: event.type ?? null,
    reason: event.reason ?? null,
    message: event.message ?? null,
    count: event.count,
    firstSeen: event.firstTimestamp ?? null,
    lastSeen: event.lastTimestamp ?? null,
    source: event.source.component
      ? `${event.source.component}${event.source.host ? ` on ${event.source.host}` : ""}`
      : null,
    involvedObject: { kind: event.involvedObject.kind ?? null, name: event.involvedObject.name ?? null },
  }));
}

// ---------------------------------------------------------------------------
// Logs

/**
 * A pod's log lines: the tail, then, with `follow`, new lines until the
 * container exits, the pod goes away or `signal` aborts (which ends the
 * request to the cluster). Refusals come before the first line.
 */
export async function* readClusterPodLog(
  options: ClusterAccess &
    z.output<typeof ZPodLogInputSchema> & { follow: boolean; signal?: AbortSignal | undefined },
): AsyncGenerator<string> {
  const kubeConfig = await connectCluster(options);
  const lines = readPodLog({
    kubeConfig,
    namespace: options.namespace,
    pod: options.pod,
    container: options.container,
    tail: options.tail,
    previous: options.previous,
    follow: options.follow,
    signal: options.signal,
  });
  try {
    for await (const line of lines) yield line;
  } catch (error) {
    throw clusterFailure(
      error,
      options.clusterId,
      `the ${options.previous ? "previous " : ""}log of pod ${options.namespace}/${options.pod}`,
      `pod ${options.namespace}/${options.pod}`,
    );
  }
}
