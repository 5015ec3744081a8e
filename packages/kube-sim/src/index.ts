// Public API of the Kubernetes API simulator: start a simulated cluster (store,
// controllers, kubelet and an HTTPS API server on loopback), get a kubeconfig
// for kubectl or @kubernetes/client-node, inject faults, stop it.

import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { stringify as toYaml } from "yaml";
import { createObjectStore, type SimObjectStore } from "./store.ts";
import { startApiServer } from "./server.ts";
import type { FaultControls } from "./http/faults.ts";
import type { LogSource } from "./http/logs.ts";

export type { FaultControls, FailureSpec, LatencySpec, Verb } from "./http/faults.ts";
export type { KubeObject, ObjectStore, StoreEvent } from "./types.ts";
export type { SimObjectStore } from "./store.ts";
export { startApiServer, type ApiServer, type ApiServerOptions } from "./server.ts";

export interface SimClusterOptions {
  /** How many nodes (named `node-1`…) or their names. */
  nodes: number | string[];
  /** Port on 127.0.0.1; default 0 (a free port). */
  port?: number | undefined;
  /** Bearer token clients must send; default a random one. */
  token?: string | undefined;
  /** Name of the cluster, user and context in the kubeconfig; default `kube-sim`. */
  name?: string | undefined;
  /** Serve HTTPS (default true); kubectl only sends tokens over TLS. */
  tls?: boolean | undefined;
  /** Which kubelet runs pods: simulated state changes (`fake`, default) or real processes. */
  kubelet?: "fake" | "process" | undefined;
  /** For the process kubelet: image → command table (a file path). */
  imageTable?: string | undefined;
  /** BOOKMARK interval for watches that allow bookmarks; default 5 s. */
  bookmarkIntervalMs?: number | undefined;
}

export interface SimCluster {
  name: string;
  /** `https://127.0.0.1:<port>` */
  url: string;
  token: string;
  /** PEM certificate the clients must trust (undefined with `tls: false`). */
  caCertificate: string | undefined;
  /** The object store; direct reads and writes, bypassing HTTP. */
  store: SimObjectStore;
  /** Fault injection on the HTTP layer (and `expireHistory` on the store). */
  faults: FaultControls;
  /** A kubeconfig (YAML) with one cluster, user (bearer token) and context, set as current. */
  kubeconfig(): string;
  writeKubeconfig(path: string): Promise<void>;
  /** Stops the API server (ending watches), then the controllers and kubelet. */
  stop(): Promise<void>;
}

function nodeNames(nodes: number | string[]): string[] {
  return typeof nodes === "number" ? Array.from({ length: nodes }, (_, i) => `node-${i + 1}`) : nodes;
}

/** A kubeconfig object for some running clusters; the first one's context is current. */
export function kubeconfigFor(clusters: ReadonlyArray<Pick<SimCluster, "name" | "url" | "token" | "caCertificate">>): object {
  return {
    apiVersion: "v1",
    kind: "Config",
    preferences: {},
    clusters: clusters.map((c) => ({
      name: c.name,
      cluster: {
        server: c.url,
        ...(c.caCertificate ? { "certificate-authority-data": Buffer.from(c.caCertificate).toString("base64") } : {}),
      },
    })),
    users: clusters.map((c) => ({ name: c.name, user: { token: c.token } })),
    contexts: clusters.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name, namespace: "default" } })),
    "current-context": clusters[0]?.name ?? "",
  };
}

/** Starts one simulated cluster. Several may run side by side in one process (see `startSimClusters`). */
export async function startSimCluster(options: SimClusterOptions): Promise<SimCluster> {
  const name = options.name ?? "kube-sim";
  const token = options.token ?? randomBytes(24).toString("base64url");
  // NOTE(kube-sim-wire): replace with createSimCluster from cluster.ts (controllers + kubelet) once it lands.
  const store = createObjectStore();
  for (const node of nodeNames(options.nodes)) {
    store.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: node }, status: {} });
  }
  const logs: LogSource | undefined = undefined;

  const server = await startApiServer({
    store,
    token,
    logs,
    tls: options.tls,
    port: options.port,
    bookmarkIntervalMs: options.bookmarkIntervalMs,
  });
  const config = (): object => kubeconfigFor([{ name, url: server.url, token, caCertificate: server.caCertificate }]);
  return {
    name,
    url: server.url,
    token,
    caCertificate: server.caCertificate,
    store,
    faults: server.faults,
    kubeconfig: () => toYaml(config()),
    writeKubeconfig: (path) => writeFile(path, toYaml(config()), { mode: 0o600 }),
    async stop() {
      await server.close();
    },
  };
}

/**
 * Starts several clusters (names default to `kube-sim-1`, `kube-sim-2`, …) and
 * returns them with one kubeconfig holding a context per cluster.
 */
export async function startSimClusters(
  list: SimClusterOptions[],
): Promise<{ clusters: SimCluster[]; kubeconfig(): string; stop(): Promise<void> }> {
  const clusters: SimCluster[] = [];
  try {
    for (const [i, options] of list.entries()) clusters.push(await startSimCluster({ name: `kube-sim-${i + 1}`, ...options }));
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
