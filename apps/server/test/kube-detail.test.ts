// A sensor's Kubernetes detail through the stored connection, over real HTTP,
// against a simulated cluster: pod status, events, the log as text for CI and
// followed live over SSE. The stored kubeconfig points at a TCP forwarder in
// front of the simulator, so the test sees every connection the server opens
// to the cluster, and sees the followed log's request end.
import net from "node:net";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { daemonSetFixture } from "@tapfleet/kube-sim/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { callRest } from "./rest.ts";

const CLUSTER = "detail";
const NAMESPACE = "tapfleet";

interface Forwarder {
  port: number;
  /** Client sockets now open, each with when it opened. */
  open: Map<net.Socket, number>;
  /** Refuses new connections and cuts the open ones: the cluster becomes unreachable. */
  close(): Promise<void>;
}

async function startForwarder(target: URL): Promise<Forwarder> {
  const open = new Map<net.Socket, number>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    open.set(client, performance.now());
    const end = () => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    open,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open.keys()) socket.destroy();
      }),
  };
}

let t: TestServer;
let sim: RunningSimCluster;
let forwarder: Forwarder;
let viewer: string;
let pods: { node: string; pod: string; image: string }[];

const rest = (path: string) => callRest(t.url, { method: "GET", path, token: viewer });
/** The simulator's crash rules match pods by image or by a predicate. */
const named = (name: string) => (pod: { metadata: { name?: string } }) => pod.metadata.name === name;
const json = <T>(answer: { text: string }) => JSON.parse(answer.text) as T;

beforeAll(async () => {
  [t, sim] = await Promise.all([
    startTestServer(),
    startSimCluster({ nodes: 3, kubelet: "fake", crashAfterMs: 100, backOffBaseMs: 400 }),
  ]);
  forwarder = await startForwarder(new URL(sim.url));
  sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } });
  const daemonSet = daemonSetFixture({
    name: "tapfleet-sensor",
    namespace: NAMESPACE,
    image: "tapfleet/agent:7",
  });
  daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  sim.store.create("daemonsets.apps", daemonSet);
  const operator = (await t.userWithToken("operator")).token;
  viewer = (await t.userWithToken("viewer")).token;
  const call = (method: string, path: string, body: unknown) =>
    fetch(`${t.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${operator}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  expect((await call("POST", "/clusters", { id: CLUSTER })).status).toBe(200);
  expect((await call("POST", "/clusters", { id: "unconnected" })).status).toBe(200);
  const saved = await call("PUT", `/clusters/${CLUSTER}/connection`, {
    kubeconfig: sim.kubeconfig().replace(sim.url, `https://127.0.0.1:${forwarder.port}`),
    context: sim.name,
  });
  expect(saved.status, await saved.text()).toBe(200);

  // Every node's sensor pod running, and in the inventory.
  await waitFor(() => rest(`/clusters/${CLUSTER}/nodes`), {
    what: "three nodes with their running sensor pods in the inventory",
    timeoutMs: 15_000,
    until: (answer) =>
      answer.status === 200 &&
      json<{ items: { podName: string | null; state: string }[] }>(answer).items.filter(
        (item) => item.podName !== null && item.state !== "pending",
      ).length === 3,
  });
  pods = sim.store
    .list("pods")
    .items.filter((pod) => pod.metadata.namespace === NAMESPACE)
    .map((pod) => ({
      node: (pod.spec as { nodeName: string }).nodeName,
      pod: pod.metadata.name!,
      image: (pod.spec as { containers: { image: string }[] }).containers[0]!.image,
    }))
    .sort((a, b) => a.node.localeCompare(b.node));
  expect(pods).toHaveLength(3);
});
afterAll(async () => {
  await Promise.all([t?.stop(), sim?.stop(), forwarder?.close()]);
});

interface PodStatus {
  nodeName: string;
  daemonSets: {
    daemonSet: { namespace: string; name: string };
    podName: string | null;
    pod: {
      phase: string | null;
      ready: boolean;
      restarts: number;
      containers: {
        name: string;
        image: string | null;
        lastTermination: { reason: string | null; exitCode: number; finishedAt: string | null } | null;
      }[];
    } | null;
  }[];
}

interface SseMessage {
  type: "line" | "end";
  line?: string;
}

/** Opens the kube.podLog subscription and hands out its messages as they arrive, until the stream ends. */
async function followLog(input: unknown, signal: AbortSignal) {
  const response = await fetch(
    `${t.url}/trpc/kube.podLog?input=${encodeURIComponent(JSON.stringify(input))}`,
    { headers: { authorization: `Bearer ${viewer}`, accept: "text/event-stream" }, signal },
  );
  expect(response.status).toBe(200);
  const messages: SseMessage[] = [];
  const errors: string[] = [];
  let notify = () => undefined as void;
  let ended = false;
  const done = (async () => {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done: finished } = await reader.read();
      if (finished) break;
      buffer += decoder.decode(value, { stream: true });
      let index: number;
      while ((index = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === "serialized-error" && data) errors.push(data);
        else if (event === "return") ended = true;
        else if (!event && data) {
          const parsed = JSON.parse(data) as SseMessage | { data: SseMessage };
          messages.push("type" in parsed ? parsed : parsed.data);
        }
      }
      notify();
    }
    ended = true;
    notify();
  })().catch(() => undefined);
  /** Resolves once `check` holds for what has arrived (each arrival is an event; no polling). */
  const until = (check: (m: SseMessage[]) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const look = () => {
        if (check(messages)) resolve();
        else if (ended) reject(new Error(`the log ended first: ${JSON.stringify({ messages, errors })}`));
      };
      notify = look;
      look();
    });
  return { messages, errors, until, done, isEnded: () => ended };
}

describe("kube.podStatus: GET /clusters/{id}/nodes/{node}", () => {
  it("gives the node's inventory row with its pod as the cluster has it: phase, readiness, image", async () => {
    const target = pods[0]!;
    const answer = await rest(`/clusters/${CLUSTER}/nodes/${target.node}`);
    expect(answer.status, answer.text).toBe(200);
    const status = json<PodStatus>(answer);
    expect(status.nodeName).toBe(target.node);
    expect(status.daemonSets).toHaveLength(1);
    const [row] = status.daemonSets;
    expect(row!.daemonSet).toEqual({ namespace: NAMESPACE, name: "tapfleet-sensor" });
    expect(row!.podName).toBe(target.pod);
    expect(row!.pod).toMatchObject({ phase: "Running", ready: true, restarts: 0 });
    expect(row!.pod!.containers).toEqual([
      expect.objectContaining({ name: "agent", image: "tapfleet/agent:7", lastTermination: null }),
    ]);
  });

  it("refuses an unknown node (404), a cluster without a connection (409 naming it) and a bad name (400 naming the field)", async () => {
    const unknown = await rest(`/clusters/${CLUSTER}/nodes/no-such-node`);
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain("no-such-node");
    const unconnected = await rest(`/clusters/unconnected/nodes/${pods[0]!.node}`);
    expect(unconnected.status).toBe(409);
    expect(json<{ error: { message: string } }>(unconnected).error.message).toMatch(
      /"unconnected" has no Kubernetes connection/,
    );
    const bad = await rest(`/clusters/${CLUSTER}/nodes/Not_A_Node`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("nodeName");
  });
});

describe("a crash-looping sensor pod", () => {
  it("shows its restarts and last termination, its BackOff events newest first, and its previous log", async () => {
    const target = pods[1]!;
    sim.cluster.setCrashLoop(named(target.pod), {
      exitCode: 3,
      message: "capture failed: no such device eth9",
    });

    const events = await waitFor(
      () => rest(`/clusters/${CLUSTER}/events?kind=Pod&namespace=${NAMESPACE}&name=${target.pod}`),
      {
        what: "a BackOff event of the crash-looping pod",
        timeoutMs: 15_000,
        until: (answer) =>
          answer.status === 200 &&
          json<{ items: { reason: string }[] }>(answer).items.some((e) => e.reason === "BackOff"),
      },
    );
    const items = json<{
      items: {
        type: string;
        reason: string;
        message: string;
        count: number;
        lastSeen: string;
        source: string;
      }[];
    }>(events).items;
    const backOff = items.find((e) => e.reason === "BackOff")!;
    expect(backOff).toMatchObject({ type: "Warning", source: `kubelet on ${target.node}` });
    expect(backOff.message).toMatch(/Back-off restarting failed container agent/);
    const seen = items.map((e) => e.lastSeen);
    expect(seen).toEqual([...seen].sort().reverse());

    const status = json<PodStatus>(await rest(`/clusters/${CLUSTER}/nodes/${target.node}`));
    const pod = status.daemonSets[0]!.pod!;
    expect(pod.restarts).toBeGreaterThan(0);
    expect(pod.containers[0]!.lastTermination).toMatchObject({ exitCode: 3, reason: "Error" });
    expect(pod.containers[0]!.lastTermination!.finishedAt).toMatch(/^\d{4}-/);

    const previous = await rest(`/clusters/${CLUSTER}/pods/${NAMESPACE}/${target.pod}/log?previous=true`);
    expect(previous.status, previous.text).toBe(200);
    expect(previous.type).toMatch(/^text\/plain/);
    expect(previous.text).toContain("capture failed: no such device eth9");
    expect(previous.text).toMatch(/exited with code 3\n$/);
  });
});

describe("the pod log over REST (text/plain, for CI)", () => {
  it("gives the tail of the current log", async () => {
    const target = pods[0]!;
    const all = await rest(`/clusters/${CLUSTER}/pods/${NAMESPACE}/${target.pod}/log`);
    expect(all.status, all.text).toBe(200);
    expect(all.type).toMatch(/^text\/plain/);
    expect(all.text).toContain("kube-sim: container agent started (image tapfleet/agent:7)");
    const none = await rest(`/clusters/${CLUSTER}/pods/${NAMESPACE}/${target.pod}/log?tail=0`);
    expect(none.text).toBe("");
  });

  it("refuses a bad tail naming the field, an unknown pod with 404, a missing previous run with Kubernetes' words", async () => {
    const target = pods[0]!;
    const bad = await rest(`/clusters/${CLUSTER}/pods/${NAMESPACE}/${target.pod}/log?tail=-5`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("tail");
    const tooMany = await rest(`/clusters/${CLUSTER}/pods/${NAMESPACE}/${target.pod}/log?tail=100000`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.text).toMatch(/at most 10000/);
    const unknown = await rest(`/clusters/${CLUSTER}/pods/${NAMESPACE}/no-such-pod/log`);
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain(`pod ${NAMESPACE}/no-such-pod`);
    const noPrevious = await rest(`/clusters/${CLUSTER}/pods/${NAMESPACE}/${target.pod}/log?previous=true`);
    expect(noPrevious.status).toBe(400);
    expect(noPrevious.text).toMatch(/previous terminated container/);
  });

  it("is in the OpenAPI document", async () => {
    const document = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
    };
    const operation = document.paths["/clusters/{id}/pods/{namespace}/{name}/log"]?.get;
    expect(operation?.operationId).toBe("kube-readPodLog");
    expect(Object.keys(operation!.responses)).toEqual(expect.arrayContaining(["200", "404", "409", "503"]));
    expect(document.paths["/clusters/{clusterId}/nodes/{nodeName}"]?.get?.operationId).toBe("kube-podStatus");
    expect(document.paths["/clusters/{clusterId}/events"]?.get?.operationId).toBe("kube-events");
  });
});

describe("kube.podLog: the log followed live", () => {
  it("streams new lines and ends when the container exits", async () => {
    const target = pods[2]!;
    const controller = new AbortController();
    const log = await followLog(
      { clusterId: CLUSTER, namespace: NAMESPACE, pod: target.pod, tail: 10 },
      controller.signal,
    );
    await log.until((m) => m.some((x) => x.line?.includes("container agent started")));
    // New output after the stream opened arrives on it; then the container exits and the log ends.
    const thisPod = named(target.pod);
    sim.cluster.setCrashLoop(thisPod, { exitCode: 7, message: "followed line before the exit" });
    await log.until((m) => m.some((x) => x.type === "end"));
    const lines = log.messages.filter((m) => m.type === "line").map((m) => m.line);
    expect(lines).toContain("followed line before the exit");
    expect(lines).toContain("kube-sim: container agent exited with code 7");
    expect(log.messages.at(-1)).toEqual({ type: "end" });
    await log.done;
    expect(log.isEnded()).toBe(true);
    expect(log.errors).toEqual([]);
    sim.cluster.setCrashLoop(thisPod, false);
  });

  it("ends the request to the cluster when the client goes away", async () => {
    const target = pods[0]!;
    const before = performance.now();
    const controller = new AbortController();
    const log = await followLog(
      { clusterId: CLUSTER, namespace: NAMESPACE, pod: target.pod },
      controller.signal,
    );
    await log.until((m) => m.some((x) => x.line?.includes("container agent started")));
    // The connections opened for this log (the follow's request is one of them) are open while it is followed…
    const opened = [...forwarder.open].filter(([, at]) => at >= before).map(([socket]) => socket);
    expect(opened.length).toBeGreaterThan(0);
    controller.abort();
    await log.done;
    // …and the server closes them once the browser is gone, while the container keeps running.
    await waitFor(() => opened.filter((socket) => forwarder.open.has(socket)).length, {
      what: "the followed log's connection to the cluster to close",
      timeoutMs: 10_000,
      until: (stillOpen) => stillOpen === 0,
    });
    expect(sim.store.get("pods", NAMESPACE, target.pod)).toBeDefined();
  });

  it("refuses a pod that does not exist with the reason, in the stream", async () => {
    const log = await followLog(
      { clusterId: CLUSTER, namespace: NAMESPACE, pod: "no-such-pod" },
      new AbortController().signal,
    );
    await log.done;
    expect(log.messages).toEqual([]);
    expect(log.errors.join("")).toContain(`No pod ${NAMESPACE}/no-such-pod in cluster`);
  });
});

describe("an unreachable cluster", () => {
  it("answers 503 with the reason", async () => {
    await forwarder.close();
    const answer = await rest(`/clusters/${CLUSTER}/events?kind=Node&name=${pods[0]!.node}`);
    expect(answer.status).toBe(503);
    expect(json<{ error: { message: string } }>(answer).error.message).toMatch(
      /"detail" is unreachable: .*no answer/,
    );
    const log = await rest(`/clusters/${CLUSTER}/pods/${NAMESPACE}/${pods[0]!.pod}/log`);
    expect(log.status).toBe(503);
  });
});
