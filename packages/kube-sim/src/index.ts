import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { stringify as toYaml } from "yaml";
import { createSimCluster, type SimCluster, type SimClusterOptions } from "./cluster.ts";
import type { SimObjectStore } from "./store.ts";
import { startApiServer } from "./server.ts";
import type { FaultControls } from "./http/faults.ts";
import type { SimTokenSpec } from "./http/authorization.ts";
import type { RequestLog } from "./http/request-log.ts";

export type { FaultControls, FailureSpec, LatencySpec, Verb } from "./http/faults.ts";
export type { RecordedRequest, RequestLog, RequestRecording } from "./http/request-log.ts";
export type { KubeObject, ObjectStore, StoreEvent } from "./types.ts";
export type { SimObjectStore } from "./store.ts";
export type {
  SimCluster,
  SimClusterOptions,
  NodeSpec,
  Taint,
  ImageCommand,
  CrashSpec,
  ContainerContext,
  PodMatcher,
} from "./cluster.ts";
export { createSimCluster } from "./cluster.ts";
export { createManualClock, type ManualClock } from "./manual-clock.ts";
export type { NodeHeartbeats } from "./controllers/node-heartbeats.ts";
export { startApiServer, type ApiServer, type ApiServerOptions } from "./server.ts";
export type { PermissionRule, SimTokenSpec } from "./http/authorization.ts";

export interface StartSimClusterOptions extends SimClusterOptions {
  /** Port on 127.0.0.1; default 0 (a free port). */
  port?: number | undefined;
  /** Bearer token clients must send; default a random one. */
  token?: string | undefined;
  /** Name of the cluster, user and context in the kubeconfig; default `kube-sim`. */
  name?: string | undefined;
  /** Serve HTTPS (default true); kubectl only sends tokens over TLS. */
  tls?: boolean | undefined;
  /** BOOKMARK interval for watches that allow bookmarks; default 5 s. */
  bookmarkIntervalMs?: number | undefined;
}

/** A simulated cluster with its API server running. */
export interface RunningSimCluster {
  name: string;
  /** `https://127.0.0.1:<port>` */
  url: string;
  token: string;
  /** PEM certificate the clients must trust (undefined with `tls: false`). */
  caCertificate: string | undefined;
  /** The cluster's controls (nodes, crash loops, kubelet, logs) from cluster.ts. */
  cluster: SimCluster;
  /** Shortcut for `cluster.store`: direct reads and writes, bypassing HTTP. */
  store: SimObjectStore;
  /** Fault injection on the HTTP layer (and `expireHistory` on the store). */
  faults: FaultControls;
  /** Records the requests the API server answers, on demand (`requestLog.record()`). */
  requestLog: RequestLog;
  /** A kubeconfig (YAML) with one cluster, user (bearer token; default the cluster's own) and context, set as current. */
  kubeconfig(options?: { token?: string }): string;
  /** Accepts another bearer token, limited to its permission set (README: "Tokens with limited rights"). */
  addToken(spec: SimTokenSpec): void;
  /** Makes an added token answer 401 from now on. */
  expireToken(token: string): void;
  writeKubeconfig(path: string): Promise<void>;
  /** Stops the API server (ending watches), then the controllers and kubelet. */
  stop(): Promise<void>;
}

/** A kubeconfig object for some running clusters; the first one's context is current. */
export function kubeconfigFor(
  clusters: ReadonlyArray<Pick<RunningSimCluster, "name" | "url" | "token" | "caCertificate">>,
): object {
  return {
    apiVersion: "v1",
    kind: "Config",
    preferences: {},
    clusters: clusters.map((c) => ({
      name: c.name,
      cluster: {
        server: c.url,
        ...(c.caCertificate
          ? { "certificate-authority-data": Buffer.from(c.caCertificate).toString("base64") }
          : {}),
      },
    })),
    users: clusters.map((c) => ({ name: c.name, user: { token: c.token } })),
    contexts: clusters.map((c) => ({
      name: c.name,
      context: { cluster: c.name, user: c.name, namespace: "default" },
    })),
    "current-context": clusters[0]?.name ?? "",
  };
}

/** Starts one simulated cluster. Several may run side by side in one process (see `startSimClusters`). */
export async function startSimCluster(options: StartSimClusterOptions = {}): Promise<RunningSimCluster> {
  const { port, token: givenToken, name: givenName, tls, bookmarkIntervalMs, ...clusterOptions } = options;
  const name = givenName ?? "kube-sim";
  const token = givenToken ?? randomBytes(24).toString("base64url");
  const cluster = createSimCluster(clusterOptions);
  let server;
  try {
    server = await startApiServer({
      store: cluster.store,
      token,
      logs: cluster.logs,
      tls,
      port,
      bookmarkIntervalMs,
    });
  } catch (error) {
    await cluster.stop();
    throw new Error(`starting the simulated API server${port ? ` on port ${port}` : ""}`, { cause: error });
  }
  const config = (as = token): object =>
    kubeconfigFor([{ name, url: server.url, token: as, caCertificate: server.caCertificate }]);
  return {
    name,
    url: server.url,
    token,
    caCertificate: server.caCertificate,
    cluster,
    store: cluster.store,
    faults: server.faults,
    requestLog: server.requestLog,
    kubeconfig: (kubeconfigOptions) => toYaml(config(kubeconfigOptions?.token)),
    addToken: (spec) => server.addToken(spec),
    expireToken: (given) => server.expireToken(given),
    writeKubeconfig: (path) => writeFile(path, toYaml(config()), { mode: 0o600 }),
    async stop() {
      await server.close();
      await cluster.stop();
    },
  };
}

/**
 * Starts several clusters (names default to `kube-sim-1`, `kube-sim-2`, …) and
 * returns them with one kubeconfig holding a context per cluster.
 */
export async function startSimClusters(
  list: StartSimClusterOptions[],
): Promise<{ clusters: RunningSimCluster[]; kubeconfig(): string; stop(): Promise<void> }> {
  const clusters: RunningSimCluster[] = [];
  try {
    for (const [i, options] of list.entries())
      clusters.push(await startSimCluster({ name: `kube-sim-${i + 1}`, ...options }));
  } catch (error) {
    await Promise.all(clusters.map((c) => c.stop()));
    throw error;
  }
  return {
    clusters,
    kubeconfig: () => toYaml(kubeconfigFor(clusters)),
    stop: async () => {
      await Promise.all(clusters.map((c) => c.stop()));
    },
  };
}
