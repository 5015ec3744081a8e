// The part of a sensor DaemonSet a rollout changes — the capture container's
// image and env, the pod template's annotations and the update strategy — read
// from and written into the DaemonSet as the API returns it. Pure: the runner
// reads the DaemonSet, calls these, and writes the result guarded by the
// generation it read, so a change made in between is refused, not overwritten.

import type { KubeDaemonSet } from "@tapfleet/kube";
import { CONFIG_HASH_ANNOTATION } from "@tapfleet/sensor/config-hash";
import { SENSOR_VARIABLES } from "@tapfleet/sensor/settings";
import { isDeepStrictEqual } from "node:util";

/** Which profile revision (profile id @ revision number) a pod template runs. */
export const CONFIG_REVISION_ANNOTATION = "tapfleet.io/config-revision";

/** An env entry as the Kubernetes API has it. */
export interface EnvVarJson {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface PodTemplateState {
  /** The capture container's name. */
  container: string;
  image: string;
  env: EnvVarJson[];
  /** The pod template's annotations. */
  annotations: Record<string, string>;
  /** `spec.updateStrategy` as it was; null when absent. */
  updateStrategy: unknown;
}

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};

function containersOf(daemonSet: unknown): Json[] {
  const containers = obj(obj(obj(obj(daemonSet).spec).template).spec).containers;
  return Array.isArray(containers) ? containers.map(obj) : [];
}

/** The pod template state of the named container, or null when the DaemonSet has no such container. */
export function readPodTemplateState(daemonSet: unknown, container: string): PodTemplateState | null {
  const found = containersOf(daemonSet).find((c) => c.name === container);
  if (!found) return null;
  const template = obj(obj(obj(daemonSet).spec).template);
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj(obj(template.metadata).annotations)))
    if (typeof value === "string") annotations[key] = value;
  return {
    container,
    image: typeof found.image === "string" ? found.image : "",
    env: Array.isArray(found.env) ? (found.env as EnvVarJson[]).map((entry) => ({ ...entry })) : [],
    annotations,
    updateStrategy: obj(obj(daemonSet).spec).updateStrategy ?? null,
  };
}

const HMAC_KEY_VARIABLE = "VSENSOR_HMAC_KEY";
const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/** Whether kubectl's last-applied configuration sets the HMAC key as a literal value. */
function holdsLiteralKey(lastApplied: string): boolean {
  let applied: unknown;
  try {
    applied = JSON.parse(lastApplied);
  } catch {
    return false;
  }
  return containersOf(applied).some(
    (container) =>
      Array.isArray(container.env) &&
      container.env.some((entry) => obj(entry).name === HMAC_KEY_VARIABLE && obj(entry).value !== undefined),
  );
}

/** Tapfleet's own annotations: the only ones a rollout sets, so the only ones compared. */
const ownAnnotations = (annotations: Record<string, string>) =>
  Object.fromEntries(Object.entries(annotations).filter(([key]) => key.startsWith("tapfleet.io/")));

/** Whether the DaemonSet carries `state` (annotations compared on Tapfleet's own keys). */
export function matchesPodTemplateState(daemonSet: unknown, state: PodTemplateState): boolean {
  const current = readPodTemplateState(daemonSet, state.container);
  if (!current) return false;
  return (
    current.image === state.image &&
    isDeepStrictEqual(current.env, state.env) &&
    isDeepStrictEqual(ownAnnotations(current.annotations), ownAnnotations(state.annotations)) &&
    isDeepStrictEqual(current.updateStrategy, state.updateStrategy)
  );
}

/**
 * The DaemonSet with `state` written in (a copy; the input is left alone):
 * the container's image and env, the template's annotations, the update
 * strategy, and the DaemonSet's own config-hash annotation kept equal to the
 * template's, as install renders it.
 */
export function writePodTemplateState<T>(daemonSet: T, state: PodTemplateState): T {
  const copy = structuredClone(daemonSet) as Json;
  const spec = obj(copy.spec);
  const template = obj(spec.template);
  const podSpec = obj(template.spec);
  const containers = (Array.isArray(podSpec.containers) ? podSpec.containers : []) as Json[];
  const container = containers.find((c) => obj(c).name === state.container);
  if (!container) throw new Error(`the DaemonSet has no container "${state.container}"`);
  container.image = state.image;
  container.env = state.env.map((entry) => ({ ...entry }));
  template.metadata = { ...obj(template.metadata), annotations: { ...state.annotations } };
  if (state.updateStrategy === null) delete spec.updateStrategy;
  else spec.updateStrategy = structuredClone(state.updateStrategy);
  const metadata = obj(copy.metadata);
  const annotations = { ...(obj(metadata.annotations) as Record<string, string>) };
  // kubectl's record of what it applied keeps a literal key readable on the DaemonSet after the
  // template reads the key from a Secret: dropped then (the next kubectl apply records it afresh).
  const key = state.env.find((entry) => entry.name === HMAC_KEY_VARIABLE);
  const lastApplied = annotations[LAST_APPLIED_ANNOTATION];
  if (key?.valueFrom !== undefined && lastApplied !== undefined && holdsLiteralKey(lastApplied))
    delete annotations[LAST_APPLIED_ANNOTATION];
  const hash = state.annotations[CONFIG_HASH_ANNOTATION];
  if (hash === undefined) delete annotations[CONFIG_HASH_ANNOTATION];
  else annotations[CONFIG_HASH_ANNOTATION] = hash;
  copy.metadata = { ...metadata, annotations };
  return copy as T;
}

const CONTRACT_VARIABLES: ReadonlySet<string> = new Set(SENSOR_VARIABLES.map((spec) => spec.variable));

/**
 * The env a rollout writes: the rendered env of the new revision (the same
 * renderer install uses), where a reference the DaemonSet already has (its
 * Secret for the key, the downward API) is kept as it is, followed by the
 * DaemonSet's own variables that are not the sensor contract's (someone's
 * proxy setting, say). A contract variable the new revision no longer sets
 * is removed: the agent then uses its default, as the revision says.
 */
export function mergeRolloutEnv(options: {
  rendered: readonly EnvVarJson[];
  current: readonly EnvVarJson[];
}): EnvVarJson[] {
  const current = new Map(options.current.map((entry) => [entry.name, entry]));
  const rendered = options.rendered.map((entry) => {
    const existing = current.get(entry.name);
    return entry.valueFrom !== undefined && existing?.valueFrom !== undefined
      ? { ...existing }
      : withApiDefaults(entry);
  });
  const names = new Set(rendered.map((entry) => entry.name));
  const foreign = options.current.filter(
    (entry) => !names.has(entry.name) && !CONTRACT_VARIABLES.has(entry.name) && entry.valueFrom === undefined,
  );
  const references = options.current.filter(
    (entry) => !names.has(entry.name) && entry.valueFrom !== undefined,
  );
  return [...rendered, ...foreign.map((e) => ({ ...e })), ...references.map((e) => ({ ...e }))];
}

/**
 * A rendered env entry as the Kubernetes API stores it: a downward API
 * reference gets its default apiVersion, so the template written compares
 * equal to the one read back (an adopted DaemonSet that had no such variable
 * would otherwise never be seen running the rollout's template).
 */
function withApiDefaults(entry: EnvVarJson): EnvVarJson {
  const fieldRef = obj(obj(entry.valueFrom).fieldRef);
  if (
    entry.valueFrom === undefined ||
    Object.keys(fieldRef).length === 0 ||
    fieldRef.apiVersion !== undefined
  )
    return { ...entry };
  return { ...entry, valueFrom: { ...obj(entry.valueFrom), fieldRef: { apiVersion: "v1", ...fieldRef } } };
}

/** The DaemonSet update strategy a rollout sets. */
export function rollingUpdateStrategy(options: {
  maxUnavailable: number | string;
  maxSurge: number | string;
}): unknown {
  return {
    type: "RollingUpdate",
    rollingUpdate: { maxUnavailable: options.maxUnavailable, maxSurge: options.maxSurge },
  };
}

/**
 * Whether the DaemonSet as the leader's watch keeps it (trimmed: each env
 * entry's value, or only that it comes from elsewhere; no update strategy)
 * carries `state`. A rollout's two templates that differ in their update
 * strategy alone look the same here: the caller reads the object then.
 */
export function matchesWatchedTemplateState(daemonSet: KubeDaemonSet, state: PodTemplateState): boolean {
  const container = daemonSet.template.containers.find((c) => c.name === state.container);
  if (!container || container.image !== state.image) return false;
  const watched = Object.entries(container.env);
  if (watched.length !== state.env.length) return false;
  const envMatches = state.env.every((entry, index) => {
    const [name, value] = watched[index]!;
    if (name !== entry.name) return false;
    return entry.valueFrom !== undefined
      ? value.valueFrom !== undefined
      : value.valueFrom === undefined && value.value === (entry.value ?? "");
  });
  return (
    envMatches &&
    isDeepStrictEqual(ownAnnotations(daemonSet.template.annotations), ownAnnotations(state.annotations))
  );
}
