// Reading a kubeconfig that a user pasted or uploaded: its structure checked
// with zod first (so every problem names its place, `users[0].user.exec`),
// then loaded by client-node's KubeConfig, then cut down to the one chosen
// context with its cluster and user — the only part Tapfleet stores.

import { KubeConfig } from "@kubernetes/client-node";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/** Which input field a problem belongs to. */
export type ConnectionField = "kubeconfig" | "context";

/** A kubeconfig, context or cluster that cannot be used, with the field to show the message at. */
export class KubeconfigProblem extends Error {
  readonly field: ConnectionField;

  constructor(field: ConnectionField, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KubeconfigProblem";
    this.field = field;
  }
}

/** What to do instead of an exec or auth-provider plugin (README, "Connect a cluster"). */
export const SERVICE_ACCOUNT_HINT =
  "Use a kubeconfig with a ServiceAccount token instead: kubectl create serviceaccount tapfleet -n tapfleet, " +
  "bind it to a ClusterRole with get/list/watch on nodes, pods and daemonsets, then kubectl create token tapfleet -n tapfleet --duration=8760h " +
  "and put the token in the kubeconfig's user as `token:`.";

const FLATTEN_HINT =
  "The server cannot read files on your machine: embed the content with `kubectl config view --flatten --minify`.";

/** The most a kubeconfig may weigh (1 MiB); real ones are a few kB. */
export const MAX_KUBECONFIG_BYTES = 1024 * 1024;

const name = z.string({ error: "is required" }).min(1, "must not be empty");
/** A key that must be absent: any value is refused with `message`. */
const refused = (message: string) => z.never({ error: message }).optional();
const fileReference = (instead: string) =>
  refused(`file paths are not supported; use ${instead}. ${FLATTEN_HINT}`);

const ZKubeconfigClusterSchema = z.object({
  server: z.url({ protocol: /^https?$/, error: "must be an https:// URL" }),
  "certificate-authority-data": z.base64("must be base64 (certificate-authority-data)").optional(),
  "certificate-authority": fileReference("certificate-authority-data"),
  "insecure-skip-tls-verify": z.boolean("must be true or false").optional(),
  "tls-server-name": z.string().optional(),
  "proxy-url": z.url("must be a URL").optional(),
});

const ZKubeconfigUserSchema = z.object({
  token: z.string().min(1, "must not be empty").optional(),
  tokenFile: fileReference("token"),
  "client-certificate-data": z.base64("must be base64").optional(),
  "client-key-data": z.base64("must be base64").optional(),
  "client-certificate": fileReference("client-certificate-data"),
  "client-key": fileReference("client-key-data"),
  exec: refused(
    `exec plugins are not supported: the server cannot run a credential plugin. ${SERVICE_ACCOUNT_HINT}`,
  ),
  "auth-provider": refused(`auth-provider plugins are not supported. ${SERVICE_ACCOUNT_HINT}`),
  username: refused(`basic authentication is not supported by Kubernetes any more. ${SERVICE_ACCOUNT_HINT}`),
  password: refused("basic authentication is not supported by Kubernetes any more"),
});

/** The parts of a kubeconfig Tapfleet reads; other keys are ignored. */
export const ZKubeconfigSchema = z.object({
  clusters: z
    .array(z.object({ name, cluster: ZKubeconfigClusterSchema }), "must be a list")
    .min(1, "has no cluster"),
  users: z
    .array(z.object({ name, user: ZKubeconfigUserSchema.nullish() }), "must be a list")
    .min(1, "has no user"),
  contexts: z
    .array(
      z.object({
        name,
        context: z.object({ cluster: name, user: name, namespace: z.string().optional() }),
      }),
      "must be a list",
    )
    .min(1, "has no context"),
  "current-context": z.string().optional(),
});
export type Kubeconfig = z.infer<typeof ZKubeconfigSchema>;

export type KubeAuthKind = "token" | "client certificate";

/** What may be shown of a connection: never a credential. */
export interface ConnectionSummary {
  context: string;
  server: string;
  authKind: KubeAuthKind;
  /** `insecure-skip-tls-verify`: the server's certificate is not checked. */
  insecure: boolean;
}

export interface KubeconfigContext extends Partial<ConnectionSummary> {
  name: string;
  /** Why this context cannot be used, if it cannot. */
  problem?: string | undefined;
}

/** `clusters[0].cluster.server: must be an https:// URL; …` */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path
        .map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`))
        .join("");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

function readKubeconfig(text: string): Kubeconfig {
  if (Buffer.byteLength(text) > MAX_KUBECONFIG_BYTES)
    throw new KubeconfigProblem("kubeconfig", "is larger than 1 MiB; a kubeconfig is a few kB");
  if (!text.trim()) throw new KubeconfigProblem("kubeconfig", "is empty");
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    const where = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new KubeconfigProblem("kubeconfig", `is not valid YAML: ${where}`, { cause: error });
  }
  if (!document || typeof document !== "object" || Array.isArray(document))
    throw new KubeconfigProblem(
      "kubeconfig",
      "is not a kubeconfig: expected a YAML mapping with clusters, users and contexts",
    );
  const parsed = ZKubeconfigSchema.safeParse(document);
  if (!parsed.success) throw new KubeconfigProblem("kubeconfig", describeIssues(parsed.error));
  return parsed.data;
}

type Resolved = { ok: true; summary: ConnectionSummary; minimal: object } | { ok: false; problem: string };

function resolveContext(config: Kubeconfig, contextName: string): Resolved {
  const index = config.contexts.findIndex((c) => c.name === contextName);
  const context = config.contexts[index]!;
  const clusterIndex = config.clusters.findIndex((c) => c.name === context.context.cluster);
  if (clusterIndex < 0)
    return {
      ok: false,
      problem: `contexts[${index}].context.cluster: no cluster "${context.context.cluster}" in clusters`,
    };
  const userIndex = config.users.findIndex((u) => u.name === context.context.user);
  if (userIndex < 0)
    return {
      ok: false,
      problem: `contexts[${index}].context.user: no user "${context.context.user}" in users`,
    };
  const cluster = config.clusters[clusterIndex]!;
  const user = config.users[userIndex]!;
  const credentials: Partial<Record<"token" | "client-certificate-data" | "client-key-data", string>> =
    user.user ?? {};
  const hasCertificate = Boolean(credentials["client-certificate-data"]);
  const hasKey = Boolean(credentials["client-key-data"]);
  if (hasCertificate !== hasKey)
    return {
      ok: false,
      problem: `users[${userIndex}].user: a client certificate needs both client-certificate-data and client-key-data`,
    };
  const authKind: KubeAuthKind | undefined = credentials.token
    ? "token"
    : hasCertificate
      ? "client certificate"
      : undefined;
  if (!authKind)
    return {
      ok: false,
      problem: `users[${userIndex}].user: has no credentials (token, or client-certificate-data with client-key-data). ${SERVICE_ACCOUNT_HINT}`,
    };
  const c = cluster.cluster;
  const clusterFields = {
    server: c.server,
    "certificate-authority-data": c["certificate-authority-data"],
    "insecure-skip-tls-verify": c["insecure-skip-tls-verify"],
    "tls-server-name": c["tls-server-name"],
    "proxy-url": c["proxy-url"],
  };
  const userFields: Record<string, string> = {};
  for (const key of ["token", "client-certificate-data", "client-key-data"] as const)
    if (credentials[key]) userFields[key] = credentials[key];
  return {
    ok: true,
    summary: {
      context: context.name,
      server: cluster.cluster.server,
      authKind,
      insecure: cluster.cluster["insecure-skip-tls-verify"] === true,
    },
    minimal: {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: cluster.name, cluster: dropUndefined(clusterFields) }],
      users: [{ name: user.name, user: userFields }],
      contexts: [
        {
          name: context.name,
          context: dropUndefined({
            cluster: cluster.name,
            user: user.name,
            namespace: context.context.namespace,
          }),
        },
      ],
      "current-context": context.name,
    },
  };
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The contexts of a kubeconfig, each with its server and auth kind or the reason it cannot be used. */
export function listKubeconfigContexts(options: { kubeconfig: string }): {
  contexts: KubeconfigContext[];
  currentContext: string | undefined;
} {
  const config = readKubeconfig(options.kubeconfig);
  const contexts = config.contexts.map((context): KubeconfigContext => {
    const resolved = resolveContext(config, context.name);
    return resolved.ok
      ? { name: context.name, ...resolved.summary }
      : { name: context.name, problem: resolved.problem };
  });
  const current = config["current-context"];
  return {
    contexts,
    currentContext: current && contexts.some((c) => c.name === current) ? current : undefined,
  };
}

export interface PreparedConnection {
  summary: ConnectionSummary;
  /** A kubeconfig (JSON, which is YAML) holding only the chosen context, its cluster and user: what gets stored, encrypted. */
  minimalKubeconfig: string;
}

/**
 * Checks a kubeconfig and cuts it down to one context (the given one, or the
 * current context when none is given). Throws KubeconfigProblem naming the
 * field and the place in the file.
 */
export function prepareConnection(options: {
  kubeconfig: string;
  context?: string | undefined;
}): PreparedConnection {
  const config = readKubeconfig(options.kubeconfig);
  const names = config.contexts.map((c) => `"${c.name}"`).join(", ");
  const contextName = options.context?.trim() || config["current-context"];
  if (!contextName)
    throw new KubeconfigProblem("context", `choose one of the kubeconfig's contexts: ${names}`);
  if (!config.contexts.some((c) => c.name === contextName))
    throw new KubeconfigProblem(
      options.context?.trim() ? "context" : "kubeconfig",
      `${options.context?.trim() ? "" : "current-context: "}no context "${contextName}" in the kubeconfig (it has ${names})`,
    );
  const resolved = resolveContext(config, contextName);
  if (!resolved.ok) throw new KubeconfigProblem("kubeconfig", resolved.problem);
  const minimalKubeconfig = JSON.stringify(resolved.minimal);
  // client-node must accept it too; it is what connects later.
  try {
    loadKubeConfig(minimalKubeconfig);
  } catch (error) {
    throw new KubeconfigProblem(
      "kubeconfig",
      `cannot be loaded: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return { summary: resolved.summary, minimalKubeconfig };
}

/** client-node's KubeConfig for a stored (minimal) kubeconfig. */
export function loadKubeConfig(kubeconfig: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kubeconfig);
  return kubeConfig;
}
