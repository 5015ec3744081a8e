import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect, test, type APIRequestContext } from "@playwright/test";
import {
  actionPollPath,
  CONTENT_TYPES,
  encodeActionResultUpload,
  encodeStatsReport,
  INGEST_PATHS,
  signRequest,
  type SensorAction,
} from "../../packages/sensor/src/protocol.ts";
import { ADMIN, apiSignIn, signIn } from "../support/fixtures.ts";

const CLUSTER = "e2e-snapshots";
const NODE = "snap-node";
const POD = "tapfleet-agent-snap1";

/** What an agent sends, signed with the cluster's ingest key. */
function agentRequest(
  key: { keyId: string; secret: string },
  method: "GET" | "POST",
  path: string,
  body: Uint8Array,
) {
  return signRequest({
    method,
    path,
    body,
    keyId: key.keyId,
    key: key.secret,
    now: Date.now(),
    nonce: randomBytes(16).toString("base64url"),
  });
}

const identity = (sequence: number) => ({
  clusterId: CLUSTER,
  nodeName: NODE,
  podName: POD,
  agentVersion: "0.1.0",
  configHash: "0123456789abcdef",
  startedAt: Date.now() - 60_000,
  sequence,
});

function pcapOf(count: number): Uint8Array {
  const file = Buffer.alloc(24 + count * 76);
  file.writeUInt32LE(0xa1b2c3d4, 0);
  file.writeUInt16LE(2, 4);
  file.writeUInt16LE(4, 6);
  file.writeUInt32LE(65535, 16);
  file.writeUInt32LE(1, 20);
  for (let i = 0; i < count; i++) {
    file.writeUInt32LE(Math.floor(Date.now() / 1000), 24 + i * 76);
    file.writeUInt32LE(60, 24 + i * 76 + 8);
    file.writeUInt32LE(60, 24 + i * 76 + 12);
  }
  return file;
}

async function registerSensor(request: APIRequestContext) {
  const cookie = await apiSignIn(request, ADMIN);
  const created = await request.post("/trpc/clusters.create", {
    headers: { cookie, "content-type": "application/json" },
    data: { id: CLUSTER },
  });
  expect(created.status(), await created.text()).toBe(200);
  const key = ((await created.json()) as { result: { data: { keyId: string; secret: string } } }).result.data;
  const report = Buffer.from(
    encodeStatsReport({
      protocolVersion: 1,
      agent: identity(0),
      sentAt: Date.now(),
      interfaces: [],
      upload: { chunksSent: 0, bytesSent: 0, chunksDropped: {} },
    }),
  );
  const sent = await request.post(INGEST_PATHS.reports, {
    headers: {
      ...agentRequest(key, "POST", INGEST_PATHS.reports, report),
      "content-type": "application/json",
    },
    data: report,
  });
  expect(sent.status(), await sent.text()).toBe(200);
  return key;
}

test("[sensors]: an operator requests a packet snapshot from the sensors page, the agent's result shows up and downloads", async ({
  page,
  request,
}) => {
  const key = await registerSensor(request);
  await signIn(page, ADMIN);
  await page.goto(`/sensors?cluster=${CLUSTER}`);
  await page.getByRole("button", { name: `Packet snapshots of ${POD}` }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByText("No snapshots yet.")).toBeVisible();

  // A filter the server's BPF pre-check refuses is named at the field.
  await dialog.getByLabel("BPF filter").fill("udp port 53 and");
  await dialog.getByRole("button", { name: "Request snapshot" }).click();
  await expect(dialog.getByText(/is not a valid BPF filter/)).toBeVisible();

  await dialog.getByLabel("BPF filter").fill("udp port 53");
  await dialog.getByLabel("Duration (seconds)").fill("5");
  await dialog.getByRole("button", { name: "Request snapshot" }).click();
  const row = dialog.getByRole("table", { name: "Snapshots" }).getByRole("row").nth(1);
  await expect(row).toContainText("udp port 53");
  await expect(row).toContainText("pending");

  // The agent polls, captures and uploads (here by hand, with the cluster's key).
  const poll = await request.get(actionPollPath(NODE), {
    headers: agentRequest(key, "GET", actionPollPath(NODE), new Uint8Array(0)),
  });
  expect(poll.status(), await poll.text()).toBe(200);
  const actions = ((await poll.json()) as { actions: SensorAction[] }).actions;
  expect(actions).toHaveLength(1);
  expect(actions[0]!.params).toMatchObject({ durationSeconds: 5, filter: "udp port 53" });
  await expect(row).toContainText("delivered");
  const pcap = pcapOf(3);
  const result = Buffer.from(
    encodeActionResultUpload(
      {
        protocolVersion: 1,
        agent: identity(0),
        actionId: actions[0]!.id,
        status: "succeeded",
        startedAt: Date.now() - 5000,
        finishedAt: Date.now(),
        interfaces: ["eth0"],
        endedBy: "duration",
        packetCount: 3,
        pcapBytes: pcap.byteLength,
      },
      pcap,
    ),
  );
  const uploaded = await request.post(INGEST_PATHS.actionResults, {
    headers: {
      ...agentRequest(key, "POST", INGEST_PATHS.actionResults, result),
      "content-type": CONTENT_TYPES.actionResult,
    },
    data: result,
  });
  expect(uploaded.status(), await uploaded.text()).toBe(200);

  // The open dialog follows the action without a reload.
  await expect(row).toContainText("succeeded");
  const link = row.getByRole("link", { name: /Download 3 packets/ });
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  expect(download.suggestedFilename()).toBe(`snapshot-${actions[0]!.id}.pcap`);
  expect(readFileSync(await download.path()).equals(Buffer.from(pcap))).toBe(true);
});
