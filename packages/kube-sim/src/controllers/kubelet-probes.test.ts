// Readiness probes in the simulated kubelet: thresholds and delays on the
// manual clock (fake mode, results scripted through the execProbe hook), and
// real commands in the container's environment (process mode).

import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../../scripts/test-wait-for.ts";
import { createSimCluster, type ProbeResult, type SimCluster } from "../cluster.ts";
import { createManualClock, type ManualClock } from "../manual-clock.ts";
import type { KubeObject } from "../types.ts";

type Json = Record<string, unknown>;

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function podObject(name: string, container: Json): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { nodeName: "node-1", containers: [{ name: "main", image: "tapfleet/probed:1", ...container }] },
  };
}

function readiness(c: SimCluster, name: string): { pod: string | undefined; container: unknown } {
  const pod = c.store.get("pods", "default", name);
  const conditions = (pod?.status?.conditions ?? []) as Json[];
  return {
    pod: conditions.find((condition) => condition.type === "Ready")?.status as string | undefined,
    container: ((pod?.status?.containerStatuses ?? []) as Json[])[0]?.ready,
  };
}

function unhealthyEvents(c: SimCluster, name: string): string[] {
  return c.store
    .list("events", { namespace: "default" })
    .items.filter(
      (event) => event.reason === "Unhealthy" && (event.involvedObject as Json | undefined)?.name === name,
    )
    .map((event) => String(event.message));
}

/** Moves the manual clock, lets probe results (promises) land, then runs what they scheduled. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  await new Promise((resolve) => setImmediate(resolve));
  clock.flush();
}

describe("kubelet: readiness probes on the manual clock", () => {
  it("honours initialDelaySeconds, periodSeconds and both thresholds, with an Unhealthy event per failure", async () => {
    const clock = createManualClock();
    const verdicts: ProbeResult[] = [];
    const probed: string[][] = [];
    cluster = createSimCluster({
      nodes: 1,
      clock,
      execProbe: ({ command, env }) => {
        probed.push([...command, env.LEVEL ?? ""]);
        return verdicts.shift() ?? { ok: false, output: "no verdict scripted" };
      },
    });
    const c = cluster;
    c.store.create(
      "pods",
      podObject("probed", {
        env: [{ name: "LEVEL", value: "2" }],
        readinessProbe: {
          exec: { command: ["check", "--ready"] },
          initialDelaySeconds: 5,
          periodSeconds: 10,
          successThreshold: 2,
          failureThreshold: 2,
        },
      }),
    );
    clock.flush();
    expect(c.store.get("pods", "default", "probed")?.status?.phase).toBe("Running");
    expect(readiness(c, "probed")).toEqual({ pod: "False", container: false });

    verdicts.push({ ok: true }, { ok: true }, { ok: false, output: "eth0 down" }, { ok: true });
    await advance(clock, 4_999);
    expect(probed).toEqual([]);
    await advance(clock, 1); // 5 s: the first probe, one success of two
    expect(probed).toEqual([["check", "--ready", "2"]]);
    expect(readiness(c, "probed")).toEqual({ pod: "False", container: false });
    await advance(clock, 10_000); // 15 s: the second success
    expect(readiness(c, "probed")).toEqual({ pod: "True", container: true });
    await advance(clock, 10_000); // 25 s: one failure of two, still ready
    expect(readiness(c, "probed")).toEqual({ pod: "True", container: true });
    expect(unhealthyEvents(c, "probed")).toEqual(["Readiness probe failed: eth0 down"]);
    await advance(clock, 10_000); // 35 s: a success resets the count
    verdicts.push({ ok: false, output: "a" }, { ok: false, output: "b" });
    await advance(clock, 10_000); // 45 s
    expect(readiness(c, "probed")).toEqual({ pod: "True", container: true });
    await advance(clock, 10_000); // 55 s: two failures in a row
    expect(readiness(c, "probed")).toEqual({ pod: "False", container: false });
    const pod = c.store.get("pods", "default", "probed");
    expect((pod?.status?.conditions as Json[]).find((condition) => condition.type === "Ready")).toMatchObject(
      {
        status: "False",
        reason: "ContainersNotReady",
        message: "containers with unready status: [main]",
      },
    );
    expect(probed).toHaveLength(6);
  });

  it("keeps a container without an exec probe ready as soon as it runs", () => {
    const clock = createManualClock();
    cluster = createSimCluster({ nodes: 1, clock, execProbe: () => ({ ok: false, output: "never asked" }) });
    cluster.store.create("pods", podObject("plain", {}));
    cluster.store.create("pods", podObject("http", { readinessProbe: { httpGet: { path: "/", port: 80 } } }));
    clock.flush();
    expect(readiness(cluster, "plain")).toEqual({ pod: "True", container: true });
    expect(readiness(cluster, "http")).toEqual({ pod: "True", container: true });
  });

  it("starts a restarted container not ready, until its probe passes again", async () => {
    const clock = createManualClock();
    cluster = createSimCluster({ nodes: 1, clock, crashAfterMs: 30_000 });
    const c = cluster;
    c.store.create(
      "pods",
      podObject("crashy", {
        readinessProbe: { exec: { command: ["true"] }, initialDelaySeconds: 3, periodSeconds: 10 },
      }),
    );
    clock.flush();
    await advance(clock, 3_000);
    expect(readiness(c, "crashy")).toEqual({ pod: "True", container: true });
    c.kubelet.setCrashLoop("tapfleet/probed", { exitCode: 1 });
    await advance(clock, 30_000); // the crash at 33 s, and the first restart at once
    const pod = c.store.get("pods", "default", "crashy");
    expect(((pod?.status?.containerStatuses ?? []) as Json[])[0]).toMatchObject({
      restartCount: 1,
      ready: false,
      state: { running: {} },
    });
    expect(readiness(c, "crashy").pod).toBe("False");
    await advance(clock, 3_000);
    expect(readiness(c, "crashy")).toEqual({ pod: "True", container: true });
  });
});

describe("kubelet: readiness probes in process mode", () => {
  function processCluster(): SimCluster {
    cluster = createSimCluster({
      nodes: 1,
      kubelet: "process",
      recordEvents: true,
      imageTable: { "tapfleet/probed": { command: "/bin/sh", args: ["-c", "exec sleep 600"] } },
      baseEnv: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    return cluster;
  }

  it("runs the command in the container's environment: Ready only while it exits 0", async () => {
    const c = processCluster();
    const probe = (command: string[]) => ({
      exec: { command },
      periodSeconds: 1,
      timeoutSeconds: 2,
      failureThreshold: 1,
    });
    c.store.create(
      "pods",
      podObject("env-ok", {
        env: [{ name: "MODE", value: "ready" }],
        readinessProbe: probe(["sh", "-c", 'test "$MODE" = ready']),
      }),
    );
    c.store.create("pods", podObject("false", { readinessProbe: probe(["false"]) }));
    c.store.create(
      "pods",
      podObject("says-why", {
        readinessProbe: probe(["sh", "-c", "echo 'no interface open: eth0 down'; exit 1"]),
      }),
    );
    await waitFor(() => readiness(c, "env-ok").pod === "True" || undefined, {
      what: "env-ok to turn Ready",
      timeoutMs: 10_000,
    });
    await waitFor(() => unhealthyEvents(c, "says-why").length > 0 || undefined, {
      what: "an Unhealthy event for says-why",
      timeoutMs: 10_000,
    });
    expect(unhealthyEvents(c, "says-why")[0]).toBe("Readiness probe failed: no interface open: eth0 down\n");
    await waitFor(() => unhealthyEvents(c, "false").length > 0 || undefined, {
      what: "an Unhealthy event for false",
      timeoutMs: 10_000,
    });
    // `false` used to go Ready: the kubelet ignored readiness probes.
    expect(readiness(c, "false")).toEqual({ pod: "False", container: false });
    expect(readiness(c, "says-why")).toEqual({ pod: "False", container: false });
  });

  it("fails a probe that outlives timeoutSeconds", async () => {
    const c = processCluster();
    c.store.create(
      "pods",
      podObject("slow", {
        readinessProbe: { exec: { command: ["sleep", "30"] }, timeoutSeconds: 1, periodSeconds: 1 },
      }),
    );
    await waitFor(() => unhealthyEvents(c, "slow")[0], { what: "the probe to time out", timeoutMs: 10_000 });
    expect(unhealthyEvents(c, "slow")[0]).toBe('Readiness probe failed: command "sleep 30" timed out');
    expect(readiness(c, "slow")).toEqual({ pod: "False", container: false });
  });
});
