// Pod logs and events, read on demand (never watched): what the dashboard shows
// for a DaemonSet, its pods and their nodes.

import type { KubeConfig } from "@kubernetes/client-node";
import { createKubeTransport, type FetchLike } from "./transport.ts";

export interface ReadPodLogOptions {
  kubeConfig: KubeConfig;
  fetch?: FetchLike | undefined;
  namespace: string;
  pod: string;
  /** Required when the pod has several containers. */
  container?: string | undefined;
  /** Only the last lines. */
  tail?: number | undefined;
  /** The previous run of the container (after a restart). */
  previous?: boolean | undefined;
  /** Keep the stream open for new lines until the pod goes away or `signal` aborts. */
  follow?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * The lines of a container's log. The iteration ends cleanly when the server
 * ends the stream (the pod is gone) or when `signal` aborts — an abort never
 * surfaces as an error (client-node's own follow raises an unhandled AbortError).
 * Refusals (no such pod, ambiguous container) reject with the server's message.
 */
export async function* readPodLog(options: ReadPodLogOptions): AsyncGenerator<string> {
  if (options.tail !== undefined && (!Number.isInteger(options.tail) || options.tail < 0))
    throw new Error(`readPodLog: tail must be a whole number of lines, 0 or more, got ${options.tail}`);
  const transport = createKubeTransport({ kubeConfig: options.kubeConfig, fetch: options.fetch });
  const query = new URLSearchParams();
  if (options.container) query.set("container", options.container);
  if (options.tail !== undefined) query.set("tailLines", String(options.tail));
  if (options.previous) query.set("previous", "true");
  if (options.follow) query.set("follow", "true");
  const path = `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods/${encodeURIComponent(options.pod)}/log${
    query.size > 0 ? `?${query.toString()}` : ""
  }`;
  const { signal } = options;
  if (signal?.aborted) return;
  try {
    const lines = await transport.getLines(path, { signal });
    for await (const line of lines) yield line;
  } catch (error) {
    if (signal?.aborted) return;
    throw new Error(`reading the log of pod ${options.namespace}/${options.pod}`, { cause: error });
  }
}

export interface KubeEvent {
  namespace: string;
  name: string;
  type: string | undefined;
  reason: string | undefined;
  message: string | undefined;
  count: number;
  involvedObject: {
    kind: string | undefined;
    namespace: string | undefined;
    name: string | undefined;
    uid: string | undefined;
  };
  firstTimestamp: string | undefined;
  lastTimestamp: string | undefined;
  /** Who reported it: source.component (and host), or the events.k8s.io reporting controller. */
  source: { component: string | undefined; host: string | undefined };
}

export interface ListEventsOptions {
  kubeConfig: KubeConfig;
  fetch?: FetchLike | undefined;
  /** Where the events live; omit for every namespace (node events live in `default`). */
  namespace?: string | undefined;
  involvedObject: { kind?: string | undefined; name?: string | undefined; uid?: string | undefined };
  signal?: AbortSignal | undefined;
}

/** Events about one object (a DaemonSet, a pod, a node), oldest first. */
export async function listEvents(options: ListEventsOptions): Promise<KubeEvent[]> {
  const transport = createKubeTransport({ kubeConfig: options.kubeConfig, fetch: options.fetch });
  const { kind, name, uid } = options.involvedObject;
  const selector = [
    kind && `involvedObject.kind=${kind}`,
    name && `involvedObject.name=${name}`,
    uid && `involvedObject.uid=${uid}`,
  ].filter(Boolean);
  if (selector.length === 0) throw new Error("listEvents: involvedObject needs a kind, a name or a uid");
  const base = options.namespace
    ? `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/events`
    : "/api/v1/events";
  const events: KubeEvent[] = [];
  let token: string | undefined;
  try {
    do {
      const query = new URLSearchParams({ fieldSelector: selector.join(","), limit: "500" });
      if (token) query.set("continue", token);
      const page = (await transport.getJson(`${base}?${query.toString()}`, { signal: options.signal })) as {
        items?: Array<Record<string, unknown>>;
        metadata?: { continue?: string };
      };
      for (const item of page.items ?? []) events.push(trimEvent(item));
      token = page.metadata?.continue || undefined;
    } while (token);
  } catch (error) {
    throw new Error(`listing events of ${kind ?? "object"} ${name ?? uid ?? ""}`, { cause: error });
  }
  return events.sort((a, b) => (a.lastTimestamp ?? "").localeCompare(b.lastTimestamp ?? ""));
}

function trimEvent(raw: Record<string, unknown>): KubeEvent {
  const metadata = (raw.metadata ?? {}) as Record<string, unknown>;
  const involved = (raw.involvedObject ?? {}) as Record<string, unknown>;
  const source = (raw.source ?? {}) as Record<string, unknown>;
  const s = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  return {
    namespace: s(metadata.namespace) ?? "",
    name: s(metadata.name) ?? "",
    type: s(raw.type),
    reason: s(raw.reason),
    message: s(raw.message),
    count: typeof raw.count === "number" ? raw.count : 1,
    involvedObject: {
      kind: s(involved.kind),
      namespace: s(involved.namespace),
      name: s(involved.name),
      uid: s(involved.uid),
    },
    firstTimestamp: s(raw.firstTimestamp) ?? s(raw.eventTime),
    lastTimestamp: s(raw.lastTimestamp) ?? s(raw.eventTime) ?? s(raw.firstTimestamp),
    source: {
      component: s(source.component) ?? s(raw.reportingComponent) ?? s(raw.reportingController),
      host: s(source.host) ?? s(raw.reportingInstance),
    },
  };
}
