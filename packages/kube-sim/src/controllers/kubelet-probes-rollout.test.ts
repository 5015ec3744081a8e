// What minReadySeconds buys a DaemonSet's rolling update, measured with real
// processes: a new template whose container crashes a second after each start
// while its readiness probe passes as long as it runs. Without minReadySeconds
// each new pod is Ready, and so available, long enough for the controller to
// move on, and every node ends up crash-looping; with minReadySeconds: 5 no new
// pod ever counts as available and the update stops at maxUnavailable (1) node.

import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../../scripts/test-wait-for.ts";
import { createSimCluster, type SimCluster } from "../cluster.ts";
import { daemonSetFixture } from "../testing/fixtures.ts";
import type { KubeObject } from "../types.ts";

type Json = Record<string, unknown>;

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const NODES = 3;

function startCluster(): SimCluster {
  cluster = createSimCluster({
    nodes: NODES,
    kubelet: "process",
    // Restarts back off 2 s, 4 s, … rather than 10 s, 20 s: the same race, sooner.
    backOffBaseMs: 2_000,
    imageTable: {
      "demo/steady": { command: "/bin/sh", args: ["-c", "exec sleep 600"] },
      "demo/crashy": { command: "/bin/sh", args: ["-c", "sleep 1; exit 1"] },
    },
    baseEnv: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  return cluster;
}

const pods = (c: SimCluster): KubeObject[] => c.store.list("pods", { namespace: "default" }).items;
const imageOf = (pod: KubeObject): unknown => ((pod.spec?.containers ?? []) as Json[])[0]?.image;
const restarts = (pod: KubeObject): number =>
  Number(((pod.status?.containerStatuses ?? []) as Json[])[0]?.restartCount ?? 0);
const isReady = (pod: KubeObject): boolean =>
  ((pod.status?.conditions ?? []) as Json[]).some((c) => c.type === "Ready" && c.status === "True");

/** Rolls `demo/steady` to `demo/crashy`; resolves to the crashing pods once the first has restarted three times. */
async function rollToCrashy(c: SimCluster, minReadySeconds: number): Promise<KubeObject[]> {
  c.store.create(
    "daemonsets",
    daemonSetFixture({
      image: "demo/steady",
      spec: {
        minReadySeconds,
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      },
      podSpec: { containers: [{ name: "agent", image: "demo/steady", readinessProbe: PROBE }] },
    }),
  );
  await waitFor(
    () =>
      pods(c).filter((pod) => imageOf(pod) === "demo/steady" && isReady(pod)).length === NODES || undefined,
    { what: "every node's steady pod Ready", timeoutMs: 20_000 + minReadySeconds * 1000 },
  );
  await waitFor(
    () => c.store.get("daemonsets", "default", "agent")?.status?.numberAvailable === NODES || undefined,
    {
      what: "every steady pod available",
      timeoutMs: 20_000 + minReadySeconds * 1000,
    },
  );
  // Stored objects are frozen: the update is a copy with the new image.
  const ds = structuredClone(c.store.get("daemonsets", "default", "agent")!);
  const template = ds.spec!.template as { spec: { containers: Json[] } };
  template.spec.containers = [{ ...template.spec.containers[0], image: "demo/crashy" }];
  c.store.update("daemonsets", ds);
  await waitFor(
    () => pods(c).some((pod) => imageOf(pod) === "demo/crashy" && restarts(pod) >= 3) || undefined,
    {
      what: "the first crashy pod's third restart",
      timeoutMs: 60_000,
    },
  );
  return pods(c).filter((pod) => imageOf(pod) === "demo/crashy");
}

// Passes while the container runs: the process kubelet runs it only then.
const PROBE = { exec: { command: ["true"] }, periodSeconds: 1, timeoutSeconds: 2 };

describe("kubelet probes and minReadySeconds: a rolling update to a container that crashes 1 s after each start", () => {
  it("without minReadySeconds reaches every node", async () => {
    const c = startCluster();
    await rollToCrashy(c, 0);
    await waitFor(
      () => pods(c).filter((pod) => imageOf(pod) === "demo/crashy").length === NODES || undefined,
      {
        what: "the update to reach every node",
        timeoutMs: 60_000,
      },
    );
    expect(pods(c).map(imageOf)).toEqual(Array(NODES).fill("demo/crashy"));
  }, 120_000);

  it("with minReadySeconds: 5 stops at maxUnavailable (1) node, the others untouched and Ready", async () => {
    const c = startCluster();
    const crashy = await rollToCrashy(c, 5);
    // Three restarts take 1 + 1 + 2 + 1 + 4 s and more: well past minReadySeconds, never available.
    expect(crashy).toHaveLength(1);
    const steady = pods(c).filter((pod) => imageOf(pod) === "demo/steady");
    expect(steady).toHaveLength(NODES - 1);
    expect(steady.every(isReady)).toBe(true);
    expect(c.store.get("daemonsets", "default", "agent")?.status).toMatchObject({
      updatedNumberScheduled: 1,
      numberAvailable: NODES - 1,
      numberUnavailable: 1,
    });
  }, 120_000);
});
