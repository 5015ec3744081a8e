import { readFileSync } from "node:fs";
import { expect, test, type APIRequestContext } from "@playwright/test";
import {
  actionPollPath,
  CONTENT_TYPES,
  encodeActionResultUpload,
  INGEST_PATHS,
  type SensorAction,
} from "../../packages/sensor/src/protocol.ts";
import { encodePcap, LINKTYPE } from "../../packages/sensor/src/pcap.ts";
import { ADMIN, signIn } from "../support/fixtures.ts";
import { signAgentRequest } from "../support/agent-reports.ts";
import { agentIdentity, idleInterface, registerCluster, sendReport } from "./agent-support.ts";

const CLUSTER = "e2e-snapshots";
const NODE = "snap-node";
const POD = "tapfleet-agent-snap1";
const AGENT = { clusterId: CLUSTER, nodeName: NODE, podName: POD };
const identity = (sequence: number) => agentIdentity(AGENT, sequence);

function pcapOf(count: number): Uint8Array {
  const seconds = Math.floor(Date.now() / 1000);
  return encodePcap({
    linkType: LINKTYPE.ETHERNET,
    snapLength: 65535,
    records: Array.from({ length: count }, () => ({ seconds, fraction: 0, data: new Uint8Array(60) })),
  });
}

async function registerSensor(request: APIRequestContext) {
  const key = await registerCluster(request, CLUSTER);
  // The dialog offers the interfaces of the sensor's latest report.
  await sendReport(request, key, AGENT, {
    sequence: 0,
    interfaces: [idleInterface("eth0"), idleInterface("ens5")],
  });
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
  await expect(dialog.getByText(/is not a valid BPF filter/i)).toBeVisible();

  // Out-of-range numbers are named at their field, kept as typed (never clamped), and nothing is sent.
  let requests = 0;
  page.on("request", (sent) => {
    if (sent.url().includes("sensors.requestSnapshot")) requests += 1;
  });
  await dialog.getByLabel("BPF filter").fill("udp port 53");
  const duration = dialog.getByLabel("Duration (seconds)");
  await duration.fill("0");
  await duration.blur();
  await expect(duration).toHaveValue("0");
  await dialog.getByRole("button", { name: "Request snapshot" }).click();
  await expect(dialog.getByText("Must be at least 1 second.")).toBeVisible();
  await duration.fill("99999");
  await duration.blur();
  await expect(duration).toHaveValue("99999");
  await dialog.getByRole("button", { name: "Request snapshot" }).click();
  await expect(dialog.getByText("Must be at most 300 seconds.")).toBeVisible();
  expect(requests).toBe(0);
  await expect(dialog.getByText("No snapshots yet.")).toBeVisible();

  // The interface is one of those the sensor reported, or all of them.
  await dialog.getByRole("combobox", { name: "Interface" }).click();
  await expect(page.getByRole("option")).toHaveText(["All captured interfaces", "eth0", "ens5"]);
  await page.getByRole("option", { name: "eth0" }).click();
  await expect(dialog.getByRole("combobox", { name: "Interface" })).toHaveValue("eth0");

  await duration.fill("5");
  await dialog.getByRole("button", { name: "Request snapshot" }).click();
  await expect(dialog.getByText("Must be at most 300 seconds.")).toBeHidden();
  const row = dialog.getByRole("table", { name: "Snapshots" }).getByRole("row").nth(1);
  await expect(row).toContainText("udp port 53");
  await expect(row).toContainText("pending");

  // The agent polls, captures and uploads (here by hand, with the cluster's key).
  const poll = await request.get(actionPollPath(NODE), {
    headers: signAgentRequest(key, "GET", actionPollPath(NODE), new Uint8Array(0)),
  });
  expect(poll.status(), await poll.text()).toBe(200);
  const actions = ((await poll.json()) as { actions: SensorAction[] }).actions;
  expect(actions).toHaveLength(1);
  expect(actions[0]!.params).toMatchObject({ durationSeconds: 5, filter: "udp port 53", interface: "eth0" });
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
      ...signAgentRequest(key, "POST", INGEST_PATHS.actionResults, result),
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
