// core/v1 Events as controllers and the kubelet record them, so that
// `kubectl describe` and `kubectl get events` show what a real cluster shows.

import type { Clock, KubeObject, ObjectStore } from "../types.ts";
import { formatTimestamp } from "../store.ts";

export interface EventInput {
  involved: KubeObject;
  /** e.g. `spec.containers{agent}` for container events. */
  fieldPath?: string;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  component: string;
  host?: string;
}

let eventCounter = 0;

function eventSuffix(ms: number): string {
  eventCounter = (eventCounter + 1) % 1_000_000;
  return (BigInt(ms) * 1_000_000n + BigInt(eventCounter)).toString(16);
}

/** Per store: identical events seen so far → the Event that counts them. */
const seen = new WeakMap<ObjectStore, Map<string, { namespace: string; name: string }>>();
const SEEN_LIMIT = 50_000;

/**
 * Writes one Event next to the involved object (events live in its namespace,
 * `default` for cluster-scoped ones). A repeat of an identical event bumps the
 * existing one's count and lastTimestamp, as client-go's event correlator does,
 * so `kubectl describe` shows "(x4 over 2m)".
 */
export function recordEvent(store: ObjectStore, clock: Clock, input: EventInput): void {
  const { involved } = input;
  const namespace = involved.metadata.namespace ?? "default";
  const now = formatTimestamp(clock.now());
  let known = seen.get(store);
  if (!known) seen.set(store, (known = new Map<string, { namespace: string; name: string }>()));
  const key = [
    namespace,
    involved.metadata.uid,
    input.fieldPath,
    input.type,
    input.reason,
    input.message,
    input.component,
    input.host,
  ].join("\u0000");
  const previous = known.get(key);
  if (previous) {
    const existing = store.get("events", previous.namespace, previous.name);
    if (existing) {
      try {
        store.update("events", {
          ...existing,
          count: (typeof existing.count === "number" ? existing.count : 1) + 1,
          lastTimestamp: now,
        });
        return;
      } catch {
        // Fall through and record a fresh event.
      }
    }
  }
  const involvedObject: Record<string, unknown> = {
    kind: involved.kind,
    namespace: involved.metadata.namespace,
    name: involved.metadata.name,
    uid: involved.metadata.uid,
    apiVersion: involved.apiVersion,
    resourceVersion: involved.metadata.resourceVersion,
  };
  if (involved.metadata.namespace === undefined) delete involvedObject.namespace;
  if (input.fieldPath) involvedObject.fieldPath = input.fieldPath;
  const source: Record<string, string> = { component: input.component };
  if (input.host) source.host = input.host;
  try {
    const created = store.create("events", {
      apiVersion: "v1",
      kind: "Event",
      // The recorder names events <object>.<hex nanosecond timestamp>; a counter stands in for the nanoseconds.
      metadata: { name: `${involved.metadata.name}.${eventSuffix(clock.now())}`, namespace },
      involvedObject,
      reason: input.reason,
      message: input.message,
      source,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type: input.type,
      eventTime: null,
      reportingComponent: input.component,
      reportingInstance: input.host ?? "",
    });
    if (known.size >= SEEN_LIMIT) known.clear();
    known.set(key, { namespace, name: created.metadata.name! });
  } catch {
    // Events are best effort, as in client-go's recorder (e.g. the namespace is being deleted).
  }
}
