// Test helpers: raw HTTPS requests to a simulated cluster, and the real kubectl.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningSimCluster as SimCluster } from "../src/index.ts";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // Tests read arbitrary response fields; typing every Status/object shape here would add nothing.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** One HTTPS request with the cluster's token (unless `token: null`) and CA. */
export function call(
  cluster: SimCluster,
  method: string,
  path: string,
  options: { body?: unknown; contentType?: string; token?: string | null; accept?: string } = {},
): Promise<RawResponse> {
  const url = new URL(path, cluster.url);
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? cluster.token : options.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    headers["Content-Type"] = options.contentType ?? "application/json";
    // Node sends a DELETE body neither chunked nor with a length unless told.
    headers["Content-Length"] = String(Buffer.byteLength(body));
  }
  if (options.accept) headers.Accept = options.accept;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca: cluster.caCertificate }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Fails (never skips) when kubectl is missing, with one line saying what to install. */
export async function requireKubectl(): Promise<void> {
  const found = await new Promise<boolean>((resolve) =>
    execFile("kubectl", ["version", "--client"], (error) => resolve(!error)),
  );
  if (!found)
    throw new Error("kubectl is not on PATH: install kubectl (1.32) to run the kube-sim kubectl tests");
}

/** Runs the real kubectl against a cluster through a kubeconfig file in a temp dir. */
export async function withKubectl(cluster: SimCluster): Promise<{
  kubectl: (args: string[], stdin?: string) => Promise<KubectlResult>;
  dir: string;
  cleanup: () => Promise<void>;
}> {
  await requireKubectl();
  const dir = await mkdtemp(join(tmpdir(), "kube-sim-test-"));
  const kubeconfig = join(dir, "kubeconfig");
  await cluster.writeKubeconfig(kubeconfig);
  const kubectl = (args: string[], stdin?: string): Promise<KubectlResult> =>
    new Promise((resolve) => {
      const child = execFile(
        "kubectl",
        ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "cache"), ...args],
        { timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (stdin !== undefined) child.stdin?.end(stdin);
    });
  return { kubectl, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Resolves when `check` returns true; re-evaluated on every store event (no fixed sleeps). */
export function untilStore<T>(
  cluster: SimCluster,
  check: () => T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const first = check();
    if (first) {
      resolve(first);
      return;
    }
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`condition not met within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = cluster.store.subscribe(() => {
      const value = check();
      if (value) {
        clearTimeout(timer);
        unsubscribe();
        resolve(value);
      }
    });
  });
}

export interface WatchStream {
  status: number;
  contentType: string | undefined;
  /** The next event; rejects if the stream ends first. */
  next(): Promise<{ type: string; object: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens a watch and hands out its events one by one. */
export function openWatch(cluster: SimCluster, path: string): Promise<WatchStream> {
  const url = new URL(path, cluster.url);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { headers: { Authorization: `Bearer ${cluster.token}` }, ca: cluster.caCertificate },
      (res) => {
        const queue: Array<{ type: string; object: unknown }> = [];
        const waiters: Array<{
          resolve: (e: { type: string; object: unknown }) => void;
          reject: (e: Error) => void;
        }> = [];
        let buffer = "";
        let done = false;
        let endResolve: () => void = () => undefined;
        const ended = new Promise<void>((r) => (endResolve = r));
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffer += chunk;
          let index: number;
          while ((index = buffer.indexOf("\n")) >= 0) {
            const line = buffer.slice(0, index);
            buffer = buffer.slice(index + 1);
            if (!line.trim()) continue;
            const event = JSON.parse(line) as { type: string; object: unknown };
            const waiter = waiters.shift();
            if (waiter) waiter.resolve(event);
            else queue.push(event);
          }
        });
        const finish = (): void => {
          done = true;
          for (const waiter of waiters.splice(0)) waiter.reject(new Error("watch ended"));
          endResolve();
        };
        res.on("end", finish);
        res.on("close", finish);
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers["content-type"],
          next: () =>
            new Promise((resolveEvent, rejectEvent) => {
              const queued = queue.shift();
              if (queued) resolveEvent(queued);
              else if (done) rejectEvent(new Error("watch ended"));
              else waiters.push({ resolve: resolveEvent, reject: rejectEvent });
            }),
          ended,
          close: () => req.destroy(),
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}
