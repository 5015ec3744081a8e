// The demo: two simulated clusters (3 and 5 nodes, kube-sim with the kubelet
// in process mode), connected to this server, with the sensor installed the
// way the dashboard installs it (core's installSensor: the objects
// @tapfleet/sensor renders, server-side applied), so each cluster shows an
// installed sensor with its status, export and uninstall. Its pods run the
// real agent reporting over HTTPS to a listener with a certificate from a CA
// made for the demo. As root each node is a network namespace of its own and
// its agent runs inside it, capturing real traffic on the node's eth0, and
// reports to the listener on the demo bridge's address (demo-network.ts);
// otherwise the agents run on the host and replay a bundled capture
// (demo-pcap.ts). Some trouble is built in so every state shows: a node the
// sensor does not tolerate (taint), a crash-looping agent, a silent one
// (Ready, but reporting to a decoy collector). Stopping removes everything the
// demo made. The only production code that imports kube-sim.

import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import {
  AppError,
  createCluster,
  installSensor,
  removeCluster,
  saveClusterConnection,
  ZSensorInstallOptionsSchema,
  type Db,
  type SecretBox,
} from "@tapfleet/core";
import type { DemoControl, DemoStatusView } from "@tapfleet/api";
import type { LiveBus } from "@tapfleet/db";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { CLUSTER_SETTING_KEYS, parseSensorEnv } from "@tapfleet/sensor/settings";
import { generate } from "selfsigned";
import { REPO_ROOT } from "../env.ts";
import {
  createDemoBridge,
  createDemoLink,
  DEMO_BRIDGE,
  demoLinkFor,
  removeDemoNetwork,
  startDemoTraffic,
  type DemoLink,
} from "./demo-network.ts";
import { makeDemoPcap } from "./demo-pcap.ts";

export type DemoStatus = DemoStatusView;
export type DemoTraffic = NonNullable<DemoStatus["traffic"]>;
export type DemoTroubleKind = DemoStatus["trouble"][number]["kind"];

export type DemoService = DemoControl;

/** The demo's clusters and the trouble each has. */
export const DEMO_CLUSTERS = [
  {
    id: "demo-east",
    displayName: "Demo east (simulated)",
    nodes: 3,
    trouble: { "node-2": "excluded-by-taint" },
  },
  {
    id: "demo-west",
    displayName: "Demo west (simulated)",
    nodes: 5,
    trouble: { "node-4": "crash-looping", "node-5": "silent" },
  },
] as const satisfies ReadonlyArray<{
  id: string;
  displayName: string;
  nodes: number;
  trouble: Partial<Record<string, DemoTroubleKind>>;
}>;

const DEMO_IMAGE = "tapfleet/agent:demo";
const EXCLUDED_TAINT = { key: "tapfleet.io/demo", value: "excluded", effect: "NoSchedule" } as const;
const AGENT_LAUNCHER = path.join(REPO_ROOT, "packages/agent/bin/tapfleet-agent.mjs");
const AGENT_BUNDLE = path.join(REPO_ROOT, "packages/agent/dist/tapfleet-agent.mjs");

/**
 * A collector that is not this server: it answers every request with 200, as
 * another Tapfleet (or anything else) at a misconfigured collector host would.
 * Its agent's reports count as accepted, so the pod turns Ready, while this
 * server hears nothing: the node is silent.
 */
async function startDecoyCollector(tls: { key: string; cert: string }, host: string): Promise<Server> {
  const decoy = createHttpsServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    decoy.once("error", reject);
    decoy.listen(0, host, resolve);
  });
  return decoy;
}

/** A CA for the demo and a certificate it signed for `host`, where the agents report (and 127.0.0.1). */
async function makeDemoCertificates(host: string): Promise<{ caPem: string; key: string; cert: string }> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 7 * 24 * 3600_000);
  const ca = await generate([{ name: "commonName", value: "Tapfleet demo CA" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: "commonName", value: host }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          ...Array.from(new Set([host, "127.0.0.1"]), (ip) => ({ type: 7 as const, ip })),
          { type: 2 as const, value: "localhost" },
        ],
      },
    ],
  });
  return { caPem: ca.cert, key: leaf.private, cert: leaf.cert };
}

/** A word for sh, quoted. */
const shellWord = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

/** A word for sh, quoted only where it needs to be (a path with spaces, say). */
const shellWordIfNeeded = (word: string): string => (/^[\w./:@%+=-]+$/.test(word) ? word : shellWord(word));

/** The ready-to-copy kubectl command for a demo cluster's kubeconfig file: its sensor pods. */
export const kubectlCommandFor = (kubeconfigFile: string): string =>
  `kubectl --kubeconfig ${shellWordIfNeeded(kubeconfigFile)} -n tapfleet-sensor get pods`;

/**
 * The demo's `tapfleet-agent`, first on the containers' PATH (so the
 * readiness probe runs it too): runs the Node entry point below inside the
 * pod's node's network namespace when it has one (as a hostNetwork pod runs
 * in its node's), on the host otherwise.
 */
function agentLauncher(entry: string, namespaces: ReadonlyMap<string, string>): string {
  const run = `${shellWord(process.execPath)} ${shellWord(entry)} "$@"`;
  return [
    "#!/bin/sh",
    'case "$TAPFLEET_CLUSTER_ID/$TAPFLEET_NODE_NAME" in',
    ...[...namespaces].map(
      ([node, netns]) => `  ${shellWord(node)}) exec ip netns exec ${shellWord(netns)} ${run} ;;`,
    ),
    "esac",
    `exec ${run}`,
    "",
  ].join("\n");
}

/**
 * The agent's entry point: sets the node's own part of the environment (its
 * config file, and without network namespaces its replay file; the trouble
 * it was given) from the plan, then runs the agent's bundle in this process.
 */
function agentEntrypoint(planFile: string): string {
  return [
    'import { readFileSync } from "node:fs";',
    `const plan = JSON.parse(readFileSync(${JSON.stringify(planFile)}, "utf8"));`,
    "const node = plan.nodes[`${process.env.TAPFLEET_CLUSTER_ID}/${process.env.TAPFLEET_NODE_NAME}`] ?? {};",
    "Object.assign(process.env, node);",
    "await import(plan.agentBundle);",
    "",
  ].join("\n");
}

interface Running {
  sims: RunningSimCluster[];
  links: DemoLink[];
  listener: Server | undefined;
  decoy: Server | undefined;
  stopTraffic: (() => void) | undefined;
  clusterIds: string[];
}

export function createDemoService(options: {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  /** Forgets cached unknown key ids, so that the new clusters' agents are accepted at once. */
  invalidateKeys: (keyId: string) => Promise<void>;
  /** Answers a request as the server's own listener would (Fastify's `routing`). */
  route: (request: IncomingMessage, response: ServerResponse) => void;
  dataDir: string;
  /** PATH of the agents' containers (the demo puts its own entry point first). */
  searchPath: string;
  log: { info(details: object, message: string): void; warn(details: object, message: string): void };
  /** Default: network namespaces as root, else pcap replay. */
  traffic?: DemoTraffic;
}): DemoService {
  const directory = path.resolve(options.dataDir, "demo");
  let status: DemoStatus = {
    state: "stopped",
    traffic: null,
    clusters: [],
    trouble: [],
    startedAt: null,
    error: null,
  };
  let running: Running | undefined;
  let busy: Promise<unknown> = Promise.resolve();
  const snapshot = (): DemoStatus => structuredClone(status);
  const kubeconfigFileFor = (clusterId: string): string => path.join(directory, `${clusterId}.kubeconfig`);

  /** Removes what a demo made, from this run or an earlier one that was killed. */
  const tearDown = async (current: Running | undefined): Promise<void> => {
    current?.stopTraffic?.();
    // The simulators (and so the agents) stop before their clusters go: an agent reporting for a
    // removed cluster would be refused by the database.
    await Promise.all((current?.sims ?? []).map((sim) => sim.stop()));
    for (const server of [current?.listener, current?.decoy]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    // Namespaces, veth pairs and the bridge, also those of a demo that was killed.
    if (process.getuid?.() === 0) await removeDemoNetwork().catch(() => undefined);
    for (const cluster of DEMO_CLUSTERS)
      await removeCluster({ db: options.db, bus: options.bus, clusterId: cluster.id });
    rmSync(directory, { recursive: true, force: true });
  };

  const launch = async (): Promise<void> => {
    const traffic = options.traffic ?? (process.getuid?.() === 0 ? "network-namespaces" : "pcap-replay");
    const current: Running = {
      sims: [],
      links: [],
      listener: undefined,
      decoy: undefined,
      stopTraffic: undefined,
      clusterIds: [],
    };
    running = current;
    await tearDown(undefined);
    mkdirSync(path.join(directory, "bin"), { recursive: true });

    // Agents in the nodes' namespaces reach the host at the bridge's address; on the host, at 127.0.0.1.
    const collectorHost = traffic === "network-namespaces" ? DEMO_BRIDGE.address : "127.0.0.1";
    if (traffic === "network-namespaces") await createDemoBridge();

    // The agents speak only HTTPS: a listener of their own, with the demo CA's certificate.
    const tls = await makeDemoCertificates(collectorHost);
    const caFile = path.join(directory, "ca.pem");
    writeFileSync(caFile, tls.caPem);
    const listener = createHttpsServer({ key: tls.key, cert: tls.cert }, options.route);
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(0, collectorHost, resolve);
    });
    current.listener = listener;
    const ingestPort = (listener.address() as AddressInfo).port;
    current.decoy = await startDecoyCollector(tls, collectorHost);
    const silentPort = (current.decoy.address() as AddressInfo).port;

    // Built once here, not by eight agents starting at once (the launcher builds a stale bundle).
    const built = spawnSync(process.execPath, [AGENT_LAUNCHER, "probe"], {
      env: {
        PATH: options.searchPath,
        OSSENSOR_CONFIG_PATH: path.join(directory, "build-check", "x.cfg"),
      } as unknown as NodeJS.ProcessEnv,
      encoding: "utf8",
    });
    if (built.error) throw new Error("building the agent", { cause: built.error });

    const replayFile = path.join(directory, "demo-traffic.pcap");
    if (traffic === "pcap-replay") writeFileSync(replayFile, makeDemoPcap());

    const planFile = path.join(directory, "plan.json");
    const entry = path.join(directory, "agent-entry.mjs");
    writeFileSync(entry, agentEntrypoint(planFile));
    const namespaces = new Map<string, string>();
    const plan: { agentBundle: string; nodes: Record<string, Record<string, string>> } = {
      agentBundle: AGENT_BUNDLE,
      nodes: {},
    };

    for (const [clusterIndex, spec] of DEMO_CLUSTERS.entries()) {
      const trouble: Partial<Record<string, DemoTroubleKind>> = spec.trouble;
      for (let n = 1; n <= spec.nodes; n++) {
        const nodeName = `node-${n}`;
        const nodeEnv: Record<string, string> = {
          OSSENSOR_CONFIG_PATH: path.join(directory, "nodes", spec.id, nodeName, "ossensor.cfg"),
        };
        if (traffic === "network-namespaces") {
          // The agent runs in the node's namespace: the DaemonSet's settings choose among its interfaces.
          const link = demoLinkFor(clusterIndex + 1, n);
          await createDemoLink(link);
          current.links.push(link);
          namespaces.set(`${spec.id}/${nodeName}`, link.netns);
        } else {
          nodeEnv.OSSENSOR_NETWORK_DEVICE = "eth0";
          nodeEnv.TAPFLEET_CAPTURE_REPLAY_FILE = replayFile;
        }
        // An out-of-range debug level: the agent refuses to start, again and again.
        if (trouble[nodeName] === "crash-looping") nodeEnv.OSSENSOR_DEBUG = "9";
        // Reports go to the decoy collector: they are accepted, the pod is Ready, this server hears nothing.
        if (trouble[nodeName] === "silent") nodeEnv.VSENSOR_PORT = String(silentPort);
        plan.nodes[`${spec.id}/${nodeName}`] = nodeEnv;
      }
    }
    writeFileSync(planFile, JSON.stringify(plan, null, 2));
    const entrypoint = path.join(directory, "bin", "tapfleet-agent");
    writeFileSync(entrypoint, agentLauncher(entry, namespaces));
    chmodSync(entrypoint, 0o755);

    for (const spec of DEMO_CLUSTERS) {
      const key = await createCluster({
        db: options.db,
        secrets: options.secrets,
        id: spec.id,
        displayName: spec.displayName,
      });
      current.clusterIds.push(spec.id);
      await options.invalidateKeys(key.keyId);
      const sim = await startSimCluster({
        name: spec.id,
        nodes: spec.nodes,
        kubelet: "process",
        imageTable: { "tapfleet/agent": { command: entrypoint } },
        baseEnv: { PATH: `${path.join(directory, "bin")}:${options.searchPath}` },
        backOffBaseMs: 5000,
      });
      current.sims.push(sim);
      // For kubectl against the simulated cluster; it holds the simulator's credentials: owner only.
      writeFileSync(kubeconfigFileFor(spec.id), sim.kubeconfig(), { mode: 0o600 });
      for (const [nodeName, kind] of Object.entries(spec.trouble as Partial<Record<string, DemoTroubleKind>>))
        if (kind === "excluded-by-taint") sim.cluster.taint(nodeName, EXCLUDED_TAINT);

      await saveClusterConnection({
        db: options.db,
        bus: options.bus,
        secrets: options.secrets,
        clusterId: spec.id,
        kubeconfig: sim.kubeconfig(),
      });
      const parsed = parseSensorEnv({
        VSENSOR_HOSTNAME: collectorHost,
        VSENSOR_PORT: String(ingestPort),
        VSENSOR_HMAC_KEY: key.secret,
        VSENSOR_TLS_CA_FILE: caFile,
        TAPFLEET_CLUSTER_ID: spec.id,
        TAPFLEET_REPORT_INTERVAL: "5",
      });
      if (!parsed.ok) throw new Error(`demo settings: ${parsed.errors.map((e) => e.message).join("; ")}`);
      // The cluster's own settings (key, id) are Tapfleet's to fill in at install.
      const settings: Record<string, unknown> = { ...parsed.settings };
      for (const clusterKey of CLUSTER_SETTING_KEYS) delete settings[clusterKey];
      await installSensor({
        db: options.db,
        bus: options.bus,
        secrets: options.secrets,
        clusterId: spec.id,
        install: ZSensorInstallOptionsSchema.parse({
          settings,
          image: DEMO_IMAGE,
          // Not the default "tolerate everything": the node tainted for the demo stays without a sensor.
          tolerations: [
            { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
          ],
          // Pods count as available once Ready, so a change (a debug level, say) rolls without waiting.
          minReadySeconds: 0,
        }),
        installedBy: "demo",
      });
    }
    if (traffic === "network-namespaces") current.stopTraffic = startDemoTraffic(current.links);

    status = {
      state: "running",
      traffic,
      clusters: DEMO_CLUSTERS.map(({ id, displayName, nodes }) => ({
        id,
        displayName,
        nodes,
        kubeconfigFile: kubeconfigFileFor(id),
        kubectlCommand: kubectlCommandFor(kubeconfigFileFor(id)),
      })),
      trouble: DEMO_CLUSTERS.flatMap((spec) =>
        Object.entries(spec.trouble as Partial<Record<string, DemoTroubleKind>>).map(([nodeName, kind]) => ({
          clusterId: spec.id,
          nodeName,
          kind: kind!,
        })),
      ),
      startedAt: new Date(),
      error: null,
    };
    options.log.info({ traffic, clusters: current.clusterIds }, "demo started");
  };

  /** One start or stop at a time. */
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = busy.then(work, work);
    busy = next.catch(() => undefined);
    return next;
  };

  return {
    status: snapshot,
    start: () =>
      serially(async () => {
        if (status.state === "running")
          throw new AppError("CONFLICT", { userMessage: "The demo is running already." });
        status = { ...status, state: "starting", error: null };
        try {
          await launch();
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          options.log.warn({ err: error }, "the demo failed to start; removing what it made");
          await tearDown(running).catch(() => undefined);
          running = undefined;
          status = {
            state: "failed",
            traffic: null,
            clusters: [],
            trouble: [],
            startedAt: null,
            error: message,
          };
          throw error;
        }
        return snapshot();
      }),
    stop: () =>
      serially(async () => {
        status = { ...status, state: "stopping" };
        await tearDown(running);
        running = undefined;
        status = { state: "stopped", traffic: null, clusters: [], trouble: [], startedAt: null, error: null };
        options.log.info({}, "demo stopped");
        return snapshot();
      }),
  };
}
