// Antigena end to end with the real parts: a CI pipeline asks the real server
// (HTTPS, PostgreSQL) for a pcap snapshot over REST, the real agent in a
// network namespace picks it up at its signed poll, captures and uploads, and
// the pcap the pipeline downloads holds exactly the matching packets sent
// during the snapshot.

import type { StatsReport } from "@tapfleet/sensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentProcess } from "../../../packages/agent/test/support/agent-process.ts";
import { sendLabelledUdp, udpRecords } from "../../../packages/agent/test/support/traffic.ts";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { createLabServer, type LabServer } from "./support/lab-server.ts";

const CLUSTER = "antigena-lab";
const NODE = "snap-node";

let t: LabServer;
let agent: AgentProcess | undefined;

const json = <T>(response: { body: Buffer }): T => JSON.parse(response.body.toString()) as T;

beforeAll(async () => {
  t = await createLabServer({ links: [["t0", { ipv6: false }]] });
  agent = t.launchAgent({
    cluster: CLUSTER,
    node: NODE,
    key: await t.registerCluster(CLUSTER),
    env: {
      NETWORK_DEVICE_INCLUDELIST: "^t0$",
      ANTIGENA_ENABLED: "true",
      ANTIGENA_TIME_PERIOD: "1",
      OSSENSOR_DEBUG: "3",
    },
  });
  // The sensor exists for the server once its first report is stored.
  await Promise.race([
    waitFor(() => agent!.output.find((line) => /report #0 .* sent: HTTP 200/.test(line)), {
      timeoutMs: 30_000,
      what: () => `a first stored report:\n${agent!.output.slice(-10).join("\n")}`,
    }),
    agent.exited.then((code) => {
      throw new Error(`agent exited with ${code}: ${agent!.output.join("\n")}`);
    }),
  ]);
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe("antigena agent to server", { timeout: 90_000 }, () => {
  it("runs a snapshot requested over REST and serves exactly the matching packets of its window", async () => {
    const sensors = json<{ items: Array<{ id: string; nodeName: string }> }>(
      await t.api("GET", "/api/v1/sensors"),
    );
    const sensorId = sensors.items.find((sensor) => sensor.nodeName === NODE)!.id;
    const t0 = t.lab.links.get("t0")!;
    // Before the snapshot: captured by the sensor, not part of the snapshot.
    await sendLabelledUdp(t.lab.senderNs, [{ address: t0.agentV4, port: 6001, count: 5, prefix: "before" }]);

    const requested = await t.api("POST", `/api/v1/sensors/${sensorId}/snapshots`, {
      durationSeconds: 8,
      filter: "udp dst port 6001",
      interface: "t0",
    });
    expect(requested.status, requested.body.toString()).toBe(200);
    const actionId = json<{ id: string }>(requested).id;
    await waitFor(() => agent!.output.find((line) => line.includes(`snapshot ${actionId} started on t0`)), {
      timeoutMs: 20_000,
      what: () => `the snapshot to start:\n${agent!.output.slice(-10).join("\n")}`,
    });
    await sendLabelledUdp(t.lab.senderNs, [
      { address: t0.agentV4, port: 6001, count: 12, prefix: "match" },
      { address: t0.agentV4, port: 6002, count: 8, prefix: "other" },
    ]);
    const sentBy = Date.now();

    type Action = {
      id: string;
      status: string;
      reason: string | null;
      result: { packetCount: number; endedBy: string; pcapUrl: string | null } | null;
    };
    const action = await waitFor(
      async () =>
        json<{ items: Action[] }>(await t.api("GET", `/api/v1/sensors/${sensorId}/actions`)).items.find(
          (item) => item.id === actionId,
        ),
      {
        until: (item) => item !== undefined && item.status !== "pending" && item.status !== "delivered",
        timeoutMs: 30_000,
        intervalMs: 250,
        what: () => `the snapshot to finish:\n${agent!.output.slice(-10).join("\n")}`,
      },
    );
    expect(action, agent!.output.slice(-10).join("\n")).toMatchObject({
      status: "succeeded",
      result: { packetCount: 12, endedBy: "duration" },
    });
    const row = await t.db.sensorAction.findUniqueOrThrow({ where: { id: actionId } });
    expect(sentBy, "all packets were sent before the snapshot ended").toBeLessThan(
      row.deliveredAt!.getTime() + 8000,
    );

    const download = await t.api("GET", action!.result!.pcapUrl!);
    expect(download.status).toBe(200);
    const records = udpRecords(download.body);
    expect(records.map((record) => record.payload).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `match-${i}`).sort(),
    );
    expect(records.every((record) => record.destinationPort === 6001)).toBe(true);

    // The agent's counters arrive with its reports and are stored with them.
    const antigena = await waitFor(
      async () =>
        (
          (
            await t.db.sensorReport.findFirst({
              where: { clusterId: CLUSTER, nodeName: NODE },
              orderBy: { sequence: "desc" },
            })
          )?.report as StatsReport | undefined
        )?.antigena,
      {
        until: (counters) => (counters?.actionsSucceeded ?? 0) >= 1,
        timeoutMs: 15_000,
        intervalMs: 250,
        what: "a report counting the succeeded action",
      },
    );
    expect(antigena).toMatchObject({
      actionsReceived: 1,
      actionsSucceeded: 1,
      actionsFailed: 0,
      pollsFailed: 0,
    });
  });
});
