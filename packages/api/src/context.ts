import type { Actor, AppError, Db, IngestGateway, LiveBus, RequestOrigin, SecretBox } from "@tapfleet/core";

/** The demo's state, as the server's demo service reports it (apps/server/src/demo). */
export interface DemoStatusView {
  state: "stopped" | "starting" | "running" | "stopping" | "failed";
  /** Where the agents' packets come from: veth pairs in network namespaces (root) or a replayed capture. */
  traffic: "network-namespaces" | "pcap-replay" | null;
  /**
   * `kubeconfigFile`: the simulator's kubeconfig, written for kubectl (it holds the simulator's
   * credentials); `kubectlCommand`: a ready-to-copy kubectl command that uses it.
   */
  clusters: Array<{
    id: string;
    displayName: string;
    nodes: number;
    kubeconfigFile: string;
    kubectlCommand: string;
  }>;
  trouble: Array<{
    clusterId: string;
    nodeName: string;
    kind: "excluded-by-taint" | "crash-looping" | "silent";
  }>;
  startedAt: Date | null;
  error: string | null;
}

/** Starts and stops the demo; absent where the server runs without it (a replica that serves ingest only). */
export interface DemoControl {
  status(): DemoStatusView;
  start(): Promise<DemoStatusView>;
  stop(): Promise<DemoStatusView>;
}

/** What every procedure receives. Built per request by the server. */
export interface ApiContext {
  db: Db;
  bus: LiveBus;
  /** Encrypts and decrypts credentials at rest. */
  secrets: SecretBox;
  ingest: Pick<IngestGateway, "invalidateKeys">;
  actor: Actor;
  /** Set when the request carried credentials that were refused (malformed, unknown, expired, revoked token). */
  authError: AppError | undefined;
  /**
   * Authenticates the request's credentials again, as they stand now (a long-lived
   * stream calls it to notice a demoted or disabled owner, or a revoked token).
   */
  reauthenticate(): Promise<{ actor: Actor; authError: AppError | undefined }>;
  /** How often an open live stream checks its caller's rights again, in milliseconds. */
  liveRecheckMs: number;
  origin: RequestOrigin;
  requestId: string;
  /** The path of every call in the request when it is a tRPC batch; absent for a single call. */
  batchPaths?: readonly string[] | undefined;
  setSessionCookie(value: string, expiresAt: Date): void;
  clearSessionCookie(): void;
  system: {
    version: string;
    database: "embedded" | "external";
    /** Where agents report (the server's TAPFLEET_PUBLIC_URL), or null when it is not configured. */
    collector: { url: string; host: string; port: number } | null;
  };
  /** The demo launcher, when this server process has one. */
  demo?: DemoControl | undefined;
  /** The request's structured logger (carries the request id). */
  log: { warn(details: object, message: string): void; error(details: object, message: string): void };
}
