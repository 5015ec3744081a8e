// The real Tapfleet server on a network lab's uplink: it serves HTTPS with a
// throw-away CA on the address the lab's agent namespace reaches, over a real
// PostgreSQL, so agents in the lab report to it as they would in a cluster.
// Tests talk to it as a CI pipeline does: the REST API with an operator token.

import { request as httpsRequest } from "node:https";
import path from "node:path";
import { createApiToken, createUser } from "@tapfleet/core";
import { createDb, type Db } from "@tapfleet/db";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import {
  baseEnv,
  buildAgentBundle,
  startAgent,
  type AgentProcess,
} from "../../../../packages/agent/test/support/agent-process.ts";
import {
  COLLECTOR_SERVER_NAME,
  createTestCertificate,
  type TestCertificate,
} from "../../../../packages/agent/test/support/collector.ts";
import { createLab, type Lab } from "../../../../packages/agent/test/support/lab.ts";
import { requireTools, scratchDir } from "../../../../packages/agent/test/support/run.ts";
import { loadServerEnv } from "../../src/env.ts";
import { createLogger, startServer, type RunningServer } from "../../src/start.ts";

export interface ApiResponse {
  status: number;
  headers: Record<string, unknown>;
  body: Buffer;
}

export interface LabServer {
  lab: Lab;
  certificate: TestCertificate;
  db: Db;
  databaseUrl: string;
  /** The server's port; it stays the same across a stop and start. */
  readonly port: number;
  /** Starts the server; after `stop`, again on the same address and database. */
  start(): Promise<void>;
  /** Stops the server only (an outage); the database and the lab stay. */
  stop(): Promise<void>;
  /** The REST API over HTTPS, trusting the test CA, with the operator token. */
  api(method: string, pathname: string, body?: unknown): Promise<ApiResponse>;
  /** Registers a cluster and returns its ingest key. */
  registerCluster(id: string): Promise<string>;
  /** The built agent in the lab's agent namespace, reporting to this server as `node` of `cluster`. */
  launchAgent(options: {
    cluster: string;
    node: string;
    key: string;
    env?: Record<string, string>;
  }): AgentProcess;
  /** Stops agents, the server, the database and the lab. */
  close(): Promise<void>;
}

export async function createLabServer(options: {
  links: Array<[name: string, options?: { ipv6?: boolean }]>;
}): Promise<LabServer> {
  requireTools();
  await buildAgentBundle();
  const certificate = createTestCertificate();
  const lab = await createLab();
  for (const [name, linkOptions] of options.links) await lab.addLink(name, linkOptions);
  const database: TestDatabase = await createTestDatabase();
  const db = createDb({ url: database.url, maxConnections: 3 });
  let server: RunningServer | undefined;
  let port = 0;
  const agents: AgentProcess[] = [];

  const start = async () => {
    const env = loadServerEnv({
      HOST: lab.collectorAddress,
      PORT: String(port),
      DATABASE_URL: database.url,
      TAPFLEET_SERVE_DASHBOARD: "false",
      TAPFLEET_ADMIN_PASSWORD: "admin-password-for-tests",
      TAPFLEET_TLS_CERT_FILE: path.join(certificate.directory, "cert.pem"),
      TAPFLEET_TLS_KEY_FILE: path.join(certificate.directory, "key.pem"),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    });
    server = await startServer({ env, logger: createLogger(env.LOG_LEVEL), announce: () => undefined });
    port = Number(new URL(server.url).port);
  };
  await start();

  const user = await createUser({
    db,
    username: "pipeline",
    role: "operator",
    password: "pipeline-password-1",
  });
  const { secret: token } = await createApiToken({
    db,
    creator: { type: "user", id: user.id, name: user.username, role: "operator", sessionId: "" },
    name: "ci",
    role: "operator",
  });

  const api: LabServer["api"] = (method, pathname, body) =>
    new Promise((resolve, reject) => {
      const request = httpsRequest(
        {
          host: lab.collectorAddress,
          port,
          method,
          path: pathname,
          ca: certificate.cert,
          servername: COLLECTOR_SERVER_NAME,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
        },
        (response) => {
          const parts: Buffer[] = [];
          response.on("data", (part: Buffer) => parts.push(part));
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(parts),
            }),
          );
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });

  return {
    lab,
    certificate,
    db,
    databaseUrl: database.url,
    get port() {
      return port;
    },
    start,
    async stop() {
      await server?.stop();
      server = undefined;
    },
    api,
    async registerCluster(id) {
      const created = await api("POST", "/api/v1/clusters", { id });
      if (created.status !== 200)
        throw new Error(`registering cluster ${id}: HTTP ${created.status} ${created.body.toString()}`);
      return (JSON.parse(created.body.toString()) as { secret: string }).secret;
    },
    launchAgent({ cluster, node, key, env = {} }) {
      const agent = startAgent({
        netns: lab.agentNs,
        env: {
          ...baseEnv({ collectorHost: lab.collectorAddress, collectorPort: port, certificate }),
          VSENSOR_HMAC_KEY: key,
          TAPFLEET_CLUSTER_ID: cluster,
          TAPFLEET_NODE_NAME: node,
          TAPFLEET_POD_NAME: `tapfleet-agent-${node}`,
          OSSENSOR_CONFIG_PATH: path.join(scratchDir("lab-cfg"), "ossensor.cfg"),
          ...env,
        },
      });
      agents.push(agent);
      return agent;
    },
    async close() {
      for (const agent of agents.splice(0)) await agent.stop();
      await server?.stop();
      await db.$disconnect();
      await database.stop();
      await lab.destroy();
    },
  };
}
