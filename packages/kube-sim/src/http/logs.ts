// `GET pods/<name>/log`: container logs from the simulated kubelet, as text,
// with `container`, `tailLines`, `previous` and `follow`.

import type { ServerResponse } from "node:http";
import { badRequest, notFound } from "../errors.ts";
import type { SimObjectStore } from "../store.ts";
import type { KubeObject } from "../types.ts";

export interface LogRequest {
  namespace: string;
  pod: string;
  container: string;
  previous: boolean;
  tailLines: number | undefined;
}

/** Where logs come from: the cluster's kubelet (`SimCluster.logs` in cluster.ts). */
export interface LogSource {
  /** The whole current log of a container (the kubelet may throw an ApiError, e.g. 400 when not started). */
  getLogs(request: LogRequest): string | Promise<string>;
}

/** How often a `follow=true` stream looks for new output. */
const FOLLOW_POLL_MS = 200;

interface LogContext {
  store: SimObjectStore;
  logs: LogSource | undefined;
}

function containerNames(pod: KubeObject): string[] {
  const containers = (pod.spec?.containers ?? []) as Array<{ name?: string }>;
  return containers.map((c) => c.name ?? "");
}

function tail(text: string, lines: number | undefined): string {
  if (lines === undefined) return text;
  if (lines <= 0) return "";
  const all = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  const kept = all.slice(-lines).join("\n");
  return text.endsWith("\n") ? `${kept}\n` : kept;
}

export async function serveLogs(
  ctx: LogContext,
  res: ServerResponse,
  namespace: string | undefined,
  podName: string,
  query: URLSearchParams,
): Promise<void> {
  const ns = namespace ?? "default";
  const pod = ctx.store.get("pods", ns, podName);
  if (!pod) throw notFound({ group: "", resource: "pods" }, podName);
  const names = containerNames(pod);
  let container = query.get("container") ?? "";
  if (container === "") {
    const preferred = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
    if (names.length === 1) container = names[0]!;
    else if (preferred && names.includes(preferred)) container = preferred;
    else
      throw badRequest(
        `a container name must be specified for pod ${podName}, choose one of: [${names.join(" ")}]`,
      );
  }
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${podName}`);
  const tailParam = query.get("tailLines");
  const tailLines = tailParam === null ? undefined : Number(tailParam);
  if (tailLines !== undefined && (!Number.isInteger(tailLines) || tailLines < 0)) {
    throw badRequest(
      `PodLogOptions "${podName}" is invalid: tailLines: Invalid value: ${tailParam}: must be greater than or equal to 0`,
    );
  }
  // Always read the whole log and cut the tail here, so `follow` can send what was appended by offset.
  const request: LogRequest = {
    namespace: ns,
    pod: podName,
    container,
    previous: query.get("previous") === "true",
    tailLines: undefined,
  };
  const read = async (): Promise<string> => (ctx.logs ? await ctx.logs.getLogs(request) : "");

  const first = await read();
  const follow = query.get("follow") === "true";
  res.writeHead(200, {
    "Content-Type": "text/plain",
    "Cache-Control": "no-cache, private",
    ...(follow ? { "Transfer-Encoding": "chunked" } : {}),
  });
  res.write(tail(first, tailLines));
  if (!follow) {
    res.end();
    return;
  }
  res.flushHeaders();
  // Follow: send what gets appended until the container exits, the pod goes away or the client leaves.
  let sent = first.length;
  const uid = pod.metadata.uid;
  const startedAs = containerRun(pod, container);
  const finish = (): void => {
    clearInterval(timer);
    if (!res.writableEnded) res.end();
  };
  if (request.previous || !startedAs.running) {
    // A terminated container's log is complete: kubectl logs -f prints it and returns.
    res.end();
    return;
  }
  const timer = setInterval(() => {
    const current = ctx.store.get("pods", ns, podName);
    if (!current || current.metadata.uid !== uid) return finish();
    const now = containerRun(current, container);
    const restarted = now.restartCount !== startedAs.restartCount;
    const exited = restarted || !now.running;
    // After a restart the followed instance's log is the previous one.
    const source = restarted ? { ...request, previous: true } : request;
    void (async () => (ctx.logs ? await ctx.logs.getLogs(source) : ""))().then(
      (text) => {
        if (text.length > sent && !res.writableEnded) res.write(text.slice(sent));
        sent = Math.max(sent, text.length);
        if (exited) finish();
      },
      () => {
        if (exited) finish();
      },
    );
  }, FOLLOW_POLL_MS);
  res.on("close", () => clearInterval(timer));
}

/** Whether a container runs, and its restart count, as the pod's status says. */
function containerRun(pod: KubeObject, container: string): { running: boolean; restartCount: number } {
  const statuses = (pod.status?.containerStatuses ?? []) as Array<{
    name?: string;
    restartCount?: number;
    state?: { running?: unknown };
  }>;
  const status = statuses.find((s) => s.name === container);
  return { running: status?.state?.running !== undefined, restartCount: status?.restartCount ?? 0 };
}
