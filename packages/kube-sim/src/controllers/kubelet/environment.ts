// A container's environment as the kubelet resolves it: envFrom (config maps and
// secrets, with a prefix), then env in order, where a plain value may refer to
// earlier variables with $(NAME) and valueFrom reads the downward API
// (fieldRef), a secret key or a config map key. Pure: the pod, the container and
// lookups in, variables or the CreateContainerConfigError message out.

import type { KubeObject } from "../../types.ts";

type Json = Record<string, unknown>;

/** A JSON scalar as text; anything else is empty. */
function text(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : "";
}

function obj(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

export type EnvSourceKind = "secrets" | "configmaps";

export interface ResolveContainerEnvOptions {
  pod: KubeObject;
  /** The container as it stands in the pod spec. */
  container: Json;
  /** A secret or config map of the pod's namespace, by name. */
  findSource: (kind: EnvSourceKind, name: string) => KubeObject | undefined;
  /** What `status.hostIP` resolves to (the node's InternalIP). */
  hostIP: string;
  /** What `status.podIP` resolves to. */
  podIP: string;
}

/** The variables, or the message the kubelet shows as CreateContainerConfigError. */
export type ResolvedEnv = { env: Record<string, string> } | { error: string };

class ConfigError extends Error {}

const label = (kind: EnvSourceKind): string => (kind === "secrets" ? "secret" : "configmap");
const decode = (kind: EnvSourceKind, raw: unknown, asText: (v: unknown) => string): string =>
  kind === "secrets" ? Buffer.from(asText(raw), "base64").toString() : asText(raw);

/** Resolves a container's environment like the kubelet does. */
export function resolveContainerEnv(options: ResolveContainerEnvOptions): ResolvedEnv {
  try {
    return { env: resolve(options) };
  } catch (err) {
    if (err instanceof ConfigError) return { error: err.message };
    throw err;
  }
}

function resolve({
  pod,
  container,
  findSource,
  hostIP,
  podIP,
}: ResolveContainerEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  const namespace = pod.metadata.namespace!;

  const lookup = (kind: EnvSourceKind, name: string, key: string, optional: boolean): string | undefined => {
    const source = findSource(kind, name);
    if (!source) {
      if (optional) return undefined;
      throw new ConfigError(`${label(kind)} "${name}" not found`);
    }
    const raw = (obj(source.data) ?? {})[key];
    if (raw === undefined) {
      const binary = obj(source.binaryData)?.[key];
      if (typeof binary === "string") return Buffer.from(binary, "base64").toString();
      if (optional) return undefined;
      throw new ConfigError(
        `couldn't find key ${key} in ${kind === "secrets" ? "Secret" : "ConfigMap"} ${namespace}/${name}`,
      );
    }
    return decode(kind, raw, text);
  };

  for (const from of (Array.isArray(container.envFrom) ? container.envFrom : []) as Json[]) {
    const prefix = typeof from.prefix === "string" ? from.prefix : "";
    for (const [kind, ref] of [
      ["configmaps", obj(from.configMapRef)],
      ["secrets", obj(from.secretRef)],
    ] as const) {
      if (!ref) continue;
      const source = findSource(kind, String(ref.name));
      if (!source) {
        if (ref.optional === true) continue;
        throw new ConfigError(`${label(kind)} "${String(ref.name)}" not found`);
      }
      for (const [k, v] of Object.entries(obj(source.data) ?? {})) env[prefix + k] = decode(kind, v, String);
    }
  }

  const field = (path: string): string => {
    const labelMatch = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
    if (labelMatch)
      return (
        (labelMatch[1] === "labels" ? pod.metadata.labels : pod.metadata.annotations)?.[labelMatch[2]!] ?? ""
      );
    switch (path) {
      case "metadata.name":
        return pod.metadata.name ?? "";
      case "metadata.namespace":
        return namespace;
      case "metadata.uid":
        return pod.metadata.uid ?? "";
      case "spec.nodeName":
        return text(pod.spec?.nodeName);
      case "spec.serviceAccountName":
        return text(pod.spec?.serviceAccountName);
      case "status.hostIP":
        return hostIP;
      case "status.podIP":
        return podIP;
      default:
        return "";
    }
  };

  for (const e of (Array.isArray(container.env) ? container.env : []) as Json[]) {
    const name = String(e.name);
    const valueFrom = obj(e.valueFrom);
    if (!valueFrom) {
      // $(VAR) refers to earlier variables; $$ escapes.
      const value = typeof e.value === "string" ? e.value : "";
      env[name] = value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string | undefined) =>
        m === "$$" ? "$" : v !== undefined && v in env ? env[v]! : m,
      );
      continue;
    }
    const fieldRef = obj(valueFrom.fieldRef);
    const secretRef = obj(valueFrom.secretKeyRef);
    const configRef = obj(valueFrom.configMapKeyRef);
    let value: string | undefined;
    if (fieldRef) value = field(String(fieldRef.fieldPath));
    else if (secretRef)
      value = lookup("secrets", String(secretRef.name), String(secretRef.key), secretRef.optional === true);
    else if (configRef)
      value = lookup(
        "configmaps",
        String(configRef.name),
        String(configRef.key),
        configRef.optional === true,
      );
    if (value !== undefined) env[name] = value;
  }
  return env;
}
