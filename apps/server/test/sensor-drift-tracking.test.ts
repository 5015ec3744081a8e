// The leader's drift watches follow what Tapfleet tracks as it changes: an
// install, a release and an adoption are announced, and the leader reconciles
// its watches on the announcement. The periodic round is set far beyond the
// test here, so every verdict below comes from an announcement (without one
// the install would be judged only an hour later).

import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDriftLive } from "./drift-live.ts";
import { startTestServer, type TestServer } from "./harness.ts";
import { setSensorEnv } from "./kubectl.ts";
import { callRest } from "./rest.ts";
import type { SseReader } from "./sse.ts";

interface Drift {
  daemonSet: { namespace: string; name: string };
  tracked: string;
  state: string;
  changes: Array<{ variable: string | null; observed: string | null }>;
}

let t: TestServer;
let sim: RunningSimCluster;
let admin: string;
let live: SseReader;
const liveAbort = new AbortController();

const rest = (method: string, path: string, body?: unknown) =>
  callRest(t.url, { method, path, token: admin, body });

beforeAll(async () => {
  [t, sim] = await Promise.all([
    startTestServer({}, { sensorDrift: { reconcileIntervalMs: 3_600_000 } }),
    startSimCluster({ nodes: 1, kubelet: "fake" }),
  ]);
  admin = (await t.userWithToken("admin")).token;
  expect((await rest("POST", "/clusters", { id: "tracked" })).status).toBe(200);
  const saved = await rest("PUT", "/clusters/tracked/connection", {
    kubeconfig: sim.kubeconfig(),
    context: sim.name,
  });
  expect(saved.status, saved.text).toBe(200);
  live = await openDriftLive({
    url: t.url,
    bus: t.bus,
    token: admin,
    clusterId: "tracked",
    signal: liveAbort.signal,
  });
});
afterAll(async () => {
  liveAbort.abort();
  await Promise.all([t?.stop(), sim?.stop()]);
});

/** The next verdicts of the cluster on the live topic that `accept` takes. */
async function nextVerdicts(accept: (drifts: Drift[]) => boolean): Promise<Drift[]> {
  let found: Drift[] | undefined;
  await live.readUntil<{ drifts: Drift[] }>((messages) => {
    for (const message of messages.splice(0)) if (accept(message.drifts)) found = message.drifts;
    return found !== undefined;
  }, 15_000);
  return found!;
}

const setDebug = (value: string) => setSensorEnv(sim, `OSSENSOR_DEBUG=${value}`);

describe("drift watches follow what is tracked, without waiting for a periodic round", () => {
  it("watches a DaemonSet as soon as it is installed: its drift is flagged", async () => {
    const installed = await rest("POST", "/clusters/tracked/sensor", {
      settings: { collectorHost: "collector.example.com", collectorPort: 8443 },
      image: "tapfleet/agent:1.0.0",
      captureMode: "capabilities",
    });
    expect(installed.status, installed.text).toBe(200);
    expect(await nextVerdicts((drifts) => drifts[0]?.state === "in-sync")).toEqual([
      expect.objectContaining({
        tracked: "installed",
        daemonSet: { namespace: "tapfleet-sensor", name: "tapfleet-sensor" },
      }),
    ]);

    await setDebug("3");
    const [drifted] = await nextVerdicts((drifts) => drifts[0]?.state === "drifted");
    expect(drifted?.changes).toEqual([
      expect.objectContaining({ variable: "OSSENSOR_DEBUG", observed: "3" }),
    ]);
  });

  it("forgets a released DaemonSet at once, and watches it again once adopted", async () => {
    const released = await rest("POST", "/clusters/tracked/sensor/release", {});
    expect(released.status, released.text).toBe(200);
    expect(await nextVerdicts((drifts) => drifts.length === 0)).toEqual([]);
    expect(await t.db.sensorDrift.count({ where: { clusterId: "tracked" } })).toBe(0);

    const adopted = await rest("POST", "/clusters/tracked/sensor/adopt", {
      namespace: "tapfleet-sensor",
      name: "tapfleet-sensor",
      profileName: "tracked-sensors",
    });
    expect(adopted.status, adopted.text).toBe(200);
    expect(await nextVerdicts((drifts) => drifts[0]?.state === "in-sync")).toEqual([
      expect.objectContaining({ tracked: "adopted" }),
    ]);
    // Watched again: a change made after the adoption is flagged.
    await setDebug("5");
    const [drifted] = await nextVerdicts((drifts) => drifts[0]?.state === "drifted");
    expect(drifted?.changes).toEqual([
      expect.objectContaining({ variable: "OSSENSOR_DEBUG", observed: "5" }),
    ]);
  });
});
