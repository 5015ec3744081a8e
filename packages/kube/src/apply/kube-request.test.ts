// kubeRequest over a real HTTP server: the requests made with one KubeConfig
// share a kept-alive connection instead of opening one each (client-node
// builds a new undici Agent for every request). The rollouts' runner reads and
// patches each cluster's DaemonSet with the KubeConfig it keeps for the term:
// one TLS handshake per cluster for the term instead of one per request.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKubeConfig } from "../connection/kubeconfig.ts";
import { KubeRequestError } from "../transport.ts";
import { kubeRequest } from "./apply.ts";

let server: Server;
let stuckArrived: () => void = () => undefined;
let url: string;
const connections = { count: 0 };
const seen: Array<{ method: string; authorization: string | undefined }> = [];

const kubeconfigFor = (name: string) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: url, "insecure-skip-tls-verify": true } }],
    users: [{ name, user: { token: `token-of-${name}` } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
  });

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ method: request.method ?? "", authorization: request.headers.authorization });
    request.resume();
    // An API server that never answers this one: the caller must be able to walk away.
    if (request.url?.endsWith("/stuck")) {
      stuckArrived();
      return;
    }
    request.on("end", () => {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ kind: "DaemonSet", metadata: { name: "sensor", generation: 1 } }));
    });
  });
  server.on("connection", () => connections.count++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("kubeRequest", () => {
  it("shares kept-alive connections among the requests made with one KubeConfig", async () => {
    const kubeConfig = loadKubeConfig(kubeconfigFor("east"));
    const path = "/apis/apps/v1/namespaces/tapfleet-sensor/daemonsets/sensor";
    const before = connections.count;
    for (const method of ["GET", "PATCH", "GET", "PATCH", "GET", "PATCH"] as const)
      await kubeRequest({
        kubeConfig,
        method,
        path,
        ...(method === "PATCH"
          ? {
              contentType: "application/json-patch+json",
              body: [{ op: "test", path: "/metadata/generation", value: 1 }],
            }
          : {}),
      });
    // Before, each request had an Agent of its own: six connections. undici may open a second one
    // while the first answer's socket is being handed back, and reuses both from then on.
    const used = connections.count - before;
    expect(used).toBeLessThanOrEqual(2);
    // The credentials still go with every request.
    expect(new Set(seen.slice(-6).map((request) => request.authorization))).toEqual(
      new Set(["Bearer token-of-east"]),
    );

    // Another KubeConfig (another cluster's, or the same one loaded again) has its own.
    const other = loadKubeConfig(kubeconfigFor("west"));
    await kubeRequest({ kubeConfig: other, method: "GET", path });
    expect(connections.count - before).toBe(used + 1);
    expect(seen.at(-1)?.authorization).toBe("Bearer token-of-west");
  });

  it("abandons a request that gets no answer as soon as its signal aborts", async () => {
    const kubeConfig = loadKubeConfig(kubeconfigFor("south"));
    const arrived = new Promise<void>((resolve) => (stuckArrived = resolve));
    const stop = new AbortController();
    const request = kubeRequest({
      kubeConfig,
      method: "GET",
      path: "/apis/apps/v1/namespaces/tapfleet-sensor/daemonsets/stuck",
      signal: stop.signal,
    });
    const outcome = request.then(
      () => "answered",
      (error: unknown) => error,
    );
    await arrived;
    const abortedAt = performance.now();
    stop.abort(new Error("the controller stops"));
    const error = await outcome;
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
    // The signal's reason, not "no answer from the cluster": nobody is told the cluster is down.
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("the controller stops");
  });

  it("fails as 'no answer' when the cluster does not answer within its time", async () => {
    const kubeConfig = loadKubeConfig(kubeconfigFor("west"));
    const arrived = new Promise<void>((resolve) => (stuckArrived = resolve));
    const startedAt = performance.now();
    const outcome = kubeRequest({
      kubeConfig,
      method: "GET",
      path: "/apis/apps/v1/namespaces/tapfleet-sensor/daemonsets/stuck",
      timeoutMs: 300,
    }).then(
      () => "answered",
      (error: unknown) => error,
    );
    await arrived;
    const error = await outcome;
    // Before, nothing but the HTTP client's own 5-minute limits ended it (the test timed out).
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(KubeRequestError);
    expect((error as KubeRequestError).status).toBe(0);
    expect((error as Error).message).toMatch(
      /^GET \/apis\/apps\/v1\/namespaces\/tapfleet-sensor\/daemonsets\/stuck: no answer from http:\/\/127\.0\.0\.1:\d+ within 0\.3 s$/,
    );
  });
});
