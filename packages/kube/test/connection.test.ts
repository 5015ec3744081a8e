// Connecting through a kubeconfig: each bad input refused with a message that
// names its place, and the connection test against real simulated clusters
// through the real client-node credentials and TLS.

import { execFileSync } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { startSimCluster, type RunningSimCluster } from "@tapfleet/kube-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  ConnectionTestFailure,
  KubeconfigProblem,
  listKubeconfigContexts,
  prepareConnection,
  testConnection,
  type ConnectionFailureReason,
} from "../src/index.ts";

/** The parts of a kubeconfig the tests edit. */
interface Doc {
  clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  users: Array<{ name: string; user: Record<string, unknown> }>;
  contexts: Array<{ name: string; context: Record<string, unknown> }>;
  "current-context"?: string;
}

let sim: RunningSimCluster;
let stopped: RunningSimCluster;
let blackHole: Server;
const heldSockets: Socket[] = [];

beforeAll(async () => {
  sim = await startSimCluster({ nodes: 3, kubelet: "fake" });
  sim.addToken({
    token: "nodes-only",
    user: "system:serviceaccount:tapfleet:nodes-only",
    allow: [
      { verbs: ["list", "watch"], resources: ["nodes", "daemonsets.apps"] },
      { verbs: ["list"], resources: ["pods"] },
    ],
  });
  sim.addToken({ token: "everything", allow: [{ verbs: ["*"], resources: ["*"] }] });
  sim.addToken({ token: "expired", allow: [{ verbs: ["*"], resources: ["*"] }], expired: true });
  sim.addToken({ token: "no-review", allow: [{ verbs: ["*"], resources: ["*"] }], selfReview: false });
  stopped = await startSimCluster({ nodes: 1, kubelet: "fake" });
  await stopped.stop();
  // Accepts connections and never answers, like a black-holed API server.
  blackHole = createServer((socket) => heldSockets.push(socket));
  await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  for (const socket of heldSockets) socket.destroy();
  await new Promise((resolve) => blackHole.close(resolve));
  await sim.stop();
});

const docOf = (target: RunningSimCluster = sim, token?: string): Doc =>
  parse(target.kubeconfig(token ? { token } : {})) as Doc;

/** A self-signed CA that did not sign the simulator's certificate. */
function otherCa(): string {
  const pem = execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "/dev/null",
      "-subj",
      "/CN=another-ca",
      "-days",
      "1",
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
  return Buffer.from(pem).toString("base64");
}

function problemOf(run: () => unknown): KubeconfigProblem {
  try {
    run();
  } catch (error) {
    if (error instanceof KubeconfigProblem) return error;
    throw error;
  }
  throw new Error("no problem was found");
}

describe("reading a kubeconfig", () => {
  const cases: Array<{
    name: string;
    edit: (doc: Doc) => Doc | string;
    context?: string;
    field: "kubeconfig" | "context";
    message: RegExp;
  }> = [
    {
      name: "not YAML",
      edit: () => "clusters: [a, b\nusers: {",
      field: "kubeconfig",
      message: /^is not valid YAML/,
    },
    { name: "empty", edit: () => "  \n", field: "kubeconfig", message: /^is empty$/ },
    { name: "a list", edit: () => "- a\n- b\n", field: "kubeconfig", message: /^is not a kubeconfig/ },
    {
      name: "an exec plugin",
      edit: (doc) => {
        doc.users[0]!.user = {
          exec: { command: "aws", args: ["eks", "get-token"], apiVersion: "client.authentication.k8s.io/v1" },
        };
        return doc;
      },
      field: "kubeconfig",
      message:
        /^users\[0\]\.user\.exec: exec plugins are not supported.*kubectl create serviceaccount.*kubectl create token/,
    },
    {
      name: "an auth-provider plugin",
      edit: (doc) => {
        doc.users[0]!.user = { "auth-provider": { name: "gcp" } };
        return doc;
      },
      field: "kubeconfig",
      message:
        /^users\[0\]\.user\.auth-provider: auth-provider plugins are not supported.*ServiceAccount token/,
    },
    {
      name: "a CA file path",
      edit: (doc) => {
        doc.clusters[0]!.cluster = { server: sim.url, "certificate-authority": "/home/me/.minikube/ca.crt" };
        return doc;
      },
      field: "kubeconfig",
      message: /^clusters\[0\]\.cluster\.certificate-authority: file paths are not supported.*--flatten/,
    },
    {
      name: "a server that is not a URL",
      edit: (doc) => {
        doc.clusters[0]!.cluster.server = "127.0.0.1:6443";
        return doc;
      },
      field: "kubeconfig",
      message: /^clusters\[0\]\.cluster\.server: must be an https:\/\/ URL/,
    },
    {
      name: "no credentials",
      edit: (doc) => {
        doc.users[0]!.user = {};
        return doc;
      },
      field: "kubeconfig",
      message: /^users\[0\]\.user: has no credentials/,
    },
    {
      name: "a context naming a missing cluster",
      edit: (doc) => {
        doc.contexts[0]!.context.cluster = "gone";
        return doc;
      },
      field: "kubeconfig",
      message: /^contexts\[0\]\.context\.cluster: no cluster "gone" in clusters$/,
    },
    {
      name: "a context naming a missing user",
      edit: (doc) => {
        doc.contexts[0]!.context.user = "nobody";
        return doc;
      },
      field: "kubeconfig",
      message: /^contexts\[0\]\.context\.user: no user "nobody" in users$/,
    },
    {
      name: "an unknown context",
      edit: (doc) => doc,
      context: "prod",
      field: "context",
      message: /^no context "prod" in the kubeconfig \(it has "kube-sim"\)$/,
    },
  ];

  it.each(cases)("refuses $name at the $field field", ({ edit, context, field, message }) => {
    const edited = edit(docOf());
    const kubeconfig = typeof edited === "string" ? edited : stringify(edited);
    const problem = problemOf(() => prepareConnection({ kubeconfig, context }));
    expect(problem.field).toBe(field);
    expect(problem.message).toMatch(message);
    // A credential never appears in a message.
    expect(problem.message).not.toContain(sim.token);
  });

  it("keeps only the chosen context, its cluster and user", () => {
    const doc = docOf();
    doc.clusters.push({
      name: "other",
      cluster: { server: "https://10.0.0.1:6443", "insecure-skip-tls-verify": true },
    });
    doc.users.push({
      name: "other",
      user: { "client-certificate-data": "Y2VydA==", "client-key-data": "a2V5" },
    });
    doc.contexts.push({ name: "other", context: { cluster: "other", user: "other" } });
    const kubeconfig = stringify(doc);

    expect(listKubeconfigContexts({ kubeconfig })).toEqual({
      currentContext: "kube-sim",
      contexts: [
        { name: "kube-sim", context: "kube-sim", server: sim.url, authKind: "token", insecure: false },
        {
          name: "other",
          context: "other",
          server: "https://10.0.0.1:6443",
          authKind: "client certificate",
          insecure: true,
        },
      ],
    });

    const prepared = prepareConnection({ kubeconfig, context: "other" });
    expect(prepared.summary).toEqual({
      context: "other",
      server: "https://10.0.0.1:6443",
      authKind: "client certificate",
      insecure: true,
    });
    const minimal = JSON.parse(prepared.minimalKubeconfig) as Doc;
    expect(minimal.clusters.map((c) => c.name)).toEqual(["other"]);
    expect(minimal.users).toEqual([
      { name: "other", user: { "client-certificate-data": "Y2VydA==", "client-key-data": "a2V5" } },
    ]);
    expect(minimal["current-context"]).toBe("other");
    expect(prepared.minimalKubeconfig).not.toContain(sim.token);
  });
});

describe("testing a connection", () => {
  it("reads the version and counts the nodes", async () => {
    const { minimalKubeconfig } = prepareConnection({ kubeconfig: sim.kubeconfig({ token: "everything" }) });
    const result = await testConnection({ kubeconfig: minimalKubeconfig });
    expect(result.serverVersion).toMatch(/^v1\.\d+/);
    expect(result.nodeCount).toBe(3);
  });

  it("works with insecure-skip-tls-verify and no CA", async () => {
    const doc = docOf();
    doc.clusters[0]!.cluster = { server: sim.url, "insecure-skip-tls-verify": true };
    const prepared = prepareConnection({ kubeconfig: stringify(doc) });
    expect(prepared.summary.insecure).toBe(true);
    expect((await testConnection({ kubeconfig: prepared.minimalKubeconfig })).nodeCount).toBe(3);
  });

  const failures: Array<{
    name: string;
    kubeconfig: () => string;
    reason: ConnectionFailureReason;
    message: RegExp | (() => RegExp);
  }> = [
    {
      name: "an unreachable server",
      kubeconfig: () => stopped.kubeconfig(),
      reason: "unreachable",
      message: () => new RegExp(`^unreachable: connection refused at ${stopped.url.replace(/\./g, "\\.")}$`),
    },
    {
      name: "a server that never answers",
      kubeconfig: () => {
        const doc = docOf();
        doc.clusters[0]!.cluster.server = `https://127.0.0.1:${(blackHole.address() as { port: number }).port}`;
        return stringify(doc);
      },
      reason: "unreachable",
      message: /^unreachable: no answer from https:\/\/127\.0\.0\.1:\d+ within 0\.3 s$/,
    },
    {
      name: "the wrong CA",
      kubeconfig: () => {
        const doc = docOf();
        doc.clusters[0]!.cluster["certificate-authority-data"] = otherCa();
        return stringify(doc);
      },
      reason: "tls",
      message: /^the server's certificate is not signed by the kubeconfig's CA/,
    },
    {
      name: "an invalid token",
      kubeconfig: () => sim.kubeconfig({ token: "made-up" }),
      reason: "unauthorized",
      message: /^the token was refused \(invalid or expired\)/,
    },
    {
      name: "an expired token",
      kubeconfig: () => sim.kubeconfig({ token: "expired" }),
      reason: "unauthorized",
      message: /^the token was refused \(invalid or expired\)/,
    },
    {
      name: "missing permissions",
      kubeconfig: () => sim.kubeconfig({ token: "nodes-only" }),
      reason: "forbidden",
      message: /^the kubeconfig's user may not watch pods \(cluster-wide\): grant get, list and watch/,
    },
    {
      name: "a refused permission review",
      kubeconfig: () => sim.kubeconfig({ token: "no-review" }),
      reason: "forbidden",
      message:
        /^may not check its permissions \(create selfsubjectaccessreviews\): selfsubjectaccessreviews\.authorization\.k8s\.io is forbidden: User ".*" cannot create resource "selfsubjectaccessreviews"/,
    },
  ];

  it.each(failures)("names the problem with $name", async ({ kubeconfig, reason, message }) => {
    const { minimalKubeconfig } = prepareConnection({ kubeconfig: kubeconfig() });
    const started = Date.now();
    const failure = await testConnection({ kubeconfig: minimalKubeconfig, timeoutMs: 300 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ConnectionTestFailure);
    const problem = failure as ConnectionTestFailure;
    expect(problem.field).toBe("kubeconfig");
    expect(problem.reason).toBe(reason);
    expect(problem.message).toMatch(typeof message === "function" ? message() : message);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
