// `pods/<name>/log` over HTTP: container choice, tailLines, previous, follow.

import { request as httpsRequest } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimCluster, type KubeObject, type RunningSimCluster } from "../src/index.ts";
import { call, untilStore } from "./helpers.ts";

let cluster: RunningSimCluster;
let pod: KubeObject;

const podPath = (): string => `/api/v1/namespaces/default/pods/${pod.metadata.name}/log`;

beforeAll(async () => {
  cluster = await startSimCluster({ nodes: 1 });
  cluster.store.create("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "two", namespace: "default" },
    spec: {
      nodeName: "node-1",
      containers: [
        { name: "a", image: "img/a:1" },
        { name: "b", image: "img/b:1" },
      ],
    },
  });
  cluster.store.create("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "one", namespace: "default" },
    spec: { nodeName: "node-1", containers: [{ name: "only", image: "img/only:1" }] },
  });
  pod = await untilStore(cluster, () => {
    const p = cluster.store.get("pods", "default", "one");
    return (p?.status as { phase?: string } | undefined)?.phase === "Running" ? p : undefined;
  });
});
afterAll(async () => {
  await cluster.stop();
});

describe("pod logs", () => {
  it("serves the only container's log as text", async () => {
    const res = await call(cluster, "GET", podPath());
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain");
    expect(res.text).toBe("kube-sim: container only started (image img/only:1)\n");
    expect((await call(cluster, "GET", `${podPath()}?tailLines=0`)).text).toBe("");
  });

  it("asks for a container name when there are several", async () => {
    const res = await call(cluster, "GET", "/api/v1/namespaces/default/pods/two/log");
    expect(res.status).toBe(400);
    expect(res.json.message).toBe("a container name must be specified for pod two, choose one of: [a b]");
    expect(
      (await call(cluster, "GET", "/api/v1/namespaces/default/pods/two/log?container=c")).json.message,
    ).toBe("container c is not valid for pod two");
  });

  it("answers 400 for previous logs of a container that never restarted", async () => {
    const res = await call(cluster, "GET", `${podPath()}?previous=true`);
    expect(res.status).toBe(400);
    expect(res.json.reason).toBe("BadRequest");
  });

  it("follows until the pod is deleted", async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        new URL(`${podPath()}?follow=true`, cluster.url),
        { headers: { Authorization: `Bearer ${cluster.token}` }, ca: cluster.caCertificate },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            body += chunk;
            // Once the current log has arrived, delete the pod: the stream must end by itself.
            if (body.endsWith("\n") && cluster.store.get("pods", "default", "one"))
              cluster.store.delete("pods", "default", "one");
          });
          res.on("end", () => resolve(body));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(text).toContain("kube-sim: container only started");
  });

  it("ends a followed log when its container exits, with everything the container printed", async () => {
    cluster.store.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "crasher", namespace: "default" },
      spec: { nodeName: "node-1", containers: [{ name: "c", image: "img/crasher:1" }] },
    });
    await untilStore(cluster, () => {
      const p = cluster.store.get("pods", "default", "crasher");
      const statuses = (p?.status?.containerStatuses ?? []) as Array<{ state?: { running?: unknown } }>;
      return statuses[0]?.state?.running !== undefined;
    });
    const followed = call(cluster, "GET", "/api/v1/namespaces/default/pods/crasher/log?follow=true");
    cluster.cluster.setCrashLoop((p) => p.metadata.name === "crasher", { message: "fatal: no token" });
    const res = await followed;
    expect(res.status).toBe(200);
    expect(res.text).toContain("kube-sim: container c started");
    expect(res.text).toContain("fatal: no token\nkube-sim: container c exited with code 1\n");
  });
});
