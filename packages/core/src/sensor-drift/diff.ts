// Drift, the pure part: what differs between the pod template Tapfleet
// applied to a sensor DaemonSet and the template the cluster has now, by
// setting (never as text), and the patch that puts it back.
//
// The observed capture container's env is read through the contract's import
// (@tapfleet/sensor/import) and compared with core/profiles' settings diff, so
// a variable left unset and the same variable set to its default are equal
// (the agent cannot tell them apart). Besides the settings: the image, the
// cluster id the agents report with, variables that are no setting at all,
// and the capture container's security settings the renderer sets. Fields the
// API server defaults (imagePullPolicy, terminationMessagePath…) are not
// compared: the renderer does not set them, so they are nobody's drift.

import { importSensorObjects } from "@tapfleet/sensor/import";
import { captureSecurityContext, type CaptureMode } from "@tapfleet/sensor/manifests";
import { SENSOR_VARIABLES, type SensorSettingKey } from "@tapfleet/sensor/settings";
import { z } from "zod";
import { diffProfileSettings, type PartialSettings, type SettingValue } from "../profiles/settings-diff.ts";

export const DRIFT_CHANGE_KINDS = ["setting", "variable", "image", "security", "container"] as const;

/** One difference between what Tapfleet applied and what the cluster runs. */
export const ZDriftChangeSchema = z.object({
  /** setting: a sensor setting; variable: an env variable that is no setting; image; security: a securityContext field; container: the capture container itself. */
  kind: z.enum(DRIFT_CHANGE_KINDS),
  /** The setting's key (collectorPort), the variable, "image", or the field (securityContext.privileged). */
  name: z.string(),
  /** The environment variable behind it, when there is one. */
  variable: z.string().nullable(),
  /** What Tapfleet applied, as the template writes it; null: not set. */
  applied: z.string().nullable(),
  /** What the cluster has now; null: not set. */
  observed: z.string().nullable(),
  /** What an unset value means (the setting's default), when it has one. */
  default: z.string().nullable(),
  /** Why the value is wrong beyond differing (an invalid value, say). */
  note: z.string().nullable(),
});
export type DriftChange = z.output<typeof ZDriftChangeSchema>;

/** What Tapfleet applied to one DaemonSet, as far as it answers for it. */
export interface ExpectedSensorTemplate {
  /** The container Tapfleet configures; null: the one carrying the osSensor contract. */
  container: string | null;
  /** The profile settings in force (no cluster settings). */
  settings: PartialSettings;
  /**
   * The variables Tapfleet answers for: "all" for a DaemonSet it installed or
   * adopted, or only those it set (a debug level on a DaemonSet it found).
   */
  scope: "all" | readonly string[];
  /** Variables in flux (a debug level being applied or reverted), not judged now. */
  ignore: readonly string[];
  /** Whether env variables that are no sensor setting count as drift (Tapfleet rendered none). */
  foreignVariables: boolean;
  /** TAPFLEET_CLUSTER_ID as rendered; null when Tapfleet did not set it. */
  clusterId: string | null;
  image: string | null;
  captureMode: CaptureMode | null;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Stands in for Secret values: drift never reads a Secret, and the key is a cluster setting. */
const SECRET_PLACEHOLDER = "secret-value-not-read-by-drift-checks";

const SPEC_BY_KEY = new Map<string, (typeof SENSOR_VARIABLES)[number]>(
  SENSOR_VARIABLES.map((spec) => [spec.key, spec]),
);

/** A setting's value as its variable would carry it ("^eth ^ens", "1", "true"). */
export function renderSettingValue(setting: SensorSettingKey, value: SettingValue | null): string | null {
  if (value === null) return null;
  const spec = SPEC_BY_KEY.get(setting);
  if (!spec) return Array.isArray(value) ? value.join(" ") : String(value);
  return (spec.codec as { render(value: unknown): string }).render(value);
}

function podSpecOf(daemonSet: Json): Json {
  const spec = isObject(daemonSet.spec) ? daemonSet.spec : {};
  const template = isObject(spec.template) ? spec.template : {};
  return isObject(template.spec) ? template.spec : {};
}

/** The container Tapfleet configures in a raw DaemonSet, or undefined. */
export function findDriftContainer(daemonSet: unknown, name: string | null): Json | undefined {
  const containers = asArray(podSpecOf(isObject(daemonSet) ? daemonSet : {}).containers).filter(isObject);
  if (name !== null) return containers.find((container) => container.name === name);
  return containers.find((container) =>
    asArray(container.env).some((entry) => isObject(entry) && entry.name === "VSENSOR_HOSTNAME"),
  );
}

/** An env entry as the template has it: its literal value, or where it comes from. */
function describeEntry(entry: Json | undefined): string | null {
  if (entry === undefined) return null;
  if (isObject(entry.valueFrom)) {
    const [source, ref] = Object.entries(entry.valueFrom)[0] ?? ["valueFrom", {}];
    const reference = isObject(ref) ? ref : {};
    const parts = [reference.name, reference.key ?? reference.fieldPath].filter((p) => typeof p === "string");
    return `(from ${source} ${parts.join("/")})`;
  }
  const value = entry.value;
  return typeof value === "string"
    ? value
    : typeof value === "number" || typeof value === "boolean"
      ? String(value)
      : "";
}

function envEntries(container: Json): Map<string, Json> {
  const entries = new Map<string, Json>();
  for (const entry of asArray(container.env))
    if (isObject(entry) && typeof entry.name === "string") entries.set(entry.name, entry);
  return entries;
}

/**
 * Stand-ins for required variables that are missing or invalid, so the rest
 * of the env still imports (the missing one is reported on its own).
 */
const REQUIRED_STAND_INS: ReadonlyMap<string, string> = new Map(
  SENSOR_VARIABLES.filter((spec) => spec.required).map((spec) => [
    spec.variable,
    spec.secret ? SECRET_PLACEHOLDER : "stand-in.invalid",
  ]),
);

/** The DaemonSet with the variables in `drop` left out of the container's env (required ones stood in for). */
function withoutVariables(daemonSet: Json, containerName: unknown, drop: ReadonlySet<string>): Json {
  const podSpec = podSpecOf(daemonSet);
  const containers = asArray(podSpec.containers).map((container) => {
    if (!(isObject(container) && container.name === containerName)) return container;
    const env = asArray(container.env).filter((entry) => !(isObject(entry) && drop.has(String(entry.name))));
    for (const variable of drop) {
      const standIn = REQUIRED_STAND_INS.get(variable);
      if (standIn !== undefined) env.push({ name: variable, value: standIn });
    }
    return { ...container, env };
  });
  const spec = isObject(daemonSet.spec) ? daemonSet.spec : {};
  const template = isObject(spec.template) ? spec.template : {};
  return { ...daemonSet, spec: { ...spec, template: { ...template, spec: { ...podSpec, containers } } } };
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, item: unknown) =>
    isObject(item)
      ? Object.fromEntries(
          Object.entries(item)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => a.localeCompare(b)),
        )
      : item,
  ) ?? "null";

/** The capture mode's security fields as the renderer writes them (the root filesystem's mode depends on the config path, and is left out). */
export function expectedSecurityContext(mode: CaptureMode): Json {
  const { readOnlyRootFilesystem: _readOnly, ...rest } = captureSecurityContext(mode, false);
  const context: Json = { ...rest };
  if (isObject(context.capabilities)) {
    const capabilities = context.capabilities;
    context.capabilities = Object.fromEntries(
      Object.entries(capabilities).map(([key, list]) => [key, [...asArray(list)].map(String).sort()]),
    );
  }
  return context;
}

function observedSecurityField(context: Json, key: string): unknown {
  const value = context[key];
  if (key === "capabilities" && isObject(value))
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, list]) => asArray(list).length > 0)
        .map(([k, list]) => [k, asArray(list).map(String).sort()]),
    );
  return value;
}

/**
 * What differs from `expected` in the raw DaemonSet `observed` (as read from
 * the API), in the contract's order: settings, then the cluster id, variables
 * that are no setting, the image and the security fields. Pure.
 */
export function diffSensorTemplate(options: {
  expected: ExpectedSensorTemplate;
  observed: unknown;
}): DriftChange[] {
  const { expected } = options;
  const observed = isObject(options.observed) ? options.observed : {};
  const container = findDriftContainer(observed, expected.container);
  if (container === undefined)
    return [
      {
        kind: "container",
        name: expected.container ?? "capture",
        variable: null,
        applied: expected.container ?? "the container with VSENSOR_HOSTNAME",
        observed: null,
        default: null,
        note: "the container Tapfleet configures is gone from the pod template",
      },
    ];
  const inScope = (variable: string) =>
    !expected.ignore.includes(variable) && (expected.scope === "all" || expected.scope.includes(variable));
  const entries = envEntries(container);
  const changes: DriftChange[] = [];

  // Import, leaving out (and reporting) the variables the contract refuses, so the rest still compares.
  const invalid = new Map<string, string>();
  let imported = importSensorObjects([withoutVariables(observed, container.name, new Set())], {
    resolveSecret: () => SECRET_PLACEHOLDER,
  });
  for (let round = 0; !imported.ok && round < 3; round++) {
    for (const error of imported.errors) invalid.set(error.variable, error.message);
    imported = importSensorObjects([withoutVariables(observed, container.name, new Set(invalid.keys()))], {
      resolveSecret: () => SECRET_PLACEHOLDER,
    });
  }
  const observedSettings: PartialSettings = imported.ok ? imported.settings : {};

  const settingChanges = diffProfileSettings({ from: expected.settings, to: observedSettings });
  const byVariable = new Map(settingChanges.map((change) => [change.variable, change]));
  for (const spec of SENSOR_VARIABLES) {
    if (!inScope(spec.variable)) continue;
    const problem = invalid.get(spec.variable);
    const change = byVariable.get(spec.variable);
    const appliedValue = (expected.settings[spec.key] as SettingValue | undefined) ?? null;
    const defaultValue = renderSettingValue(spec.key, spec.default ?? null);
    if (problem !== undefined) {
      // Required variables Tapfleet did not set are the cluster's (VSENSOR_HMAC_KEY): not drift of ours.
      if (spec.key === "hmacKey") continue;
      changes.push({
        kind: "setting",
        name: spec.key,
        variable: spec.variable,
        applied: renderSettingValue(spec.key, appliedValue),
        observed: describeEntry(entries.get(spec.variable)),
        default: defaultValue,
        note: problem,
      });
    } else if (change !== undefined) {
      changes.push({
        kind: "setting",
        name: spec.key,
        variable: spec.variable,
        applied: renderSettingValue(spec.key, change.from),
        observed: renderSettingValue(spec.key, change.to),
        default: defaultValue,
        note: null,
      });
    }
  }
  if (
    expected.clusterId !== null &&
    inScope("TAPFLEET_CLUSTER_ID") &&
    !invalid.has("TAPFLEET_CLUSTER_ID") &&
    observedSettings.clusterId !== expected.clusterId
  )
    changes.push({
      kind: "setting",
      name: "clusterId",
      variable: "TAPFLEET_CLUSTER_ID",
      applied: expected.clusterId,
      observed: describeEntry(entries.get("TAPFLEET_CLUSTER_ID")),
      default: null,
      note: "the agents report under this cluster id",
    });
  if (expected.foreignVariables)
    for (const variable of imported.unknownVariables)
      changes.push({
        kind: "variable",
        name: variable,
        variable,
        applied: null,
        observed: describeEntry(entries.get(variable)),
        default: null,
        note: "not a sensor setting",
      });
  if (expected.image !== null && container.image !== expected.image)
    changes.push({
      kind: "image",
      name: "image",
      variable: null,
      applied: expected.image,
      observed: typeof container.image === "string" ? container.image : null,
      default: null,
      note: null,
    });
  if (expected.captureMode !== null) {
    const wanted = expectedSecurityContext(expected.captureMode);
    const actual = isObject(container.securityContext) ? container.securityContext : {};
    for (const [key, value] of Object.entries(wanted)) {
      const found = observedSecurityField(actual, key);
      if (canonical(found) === canonical(value)) continue;
      changes.push({
        kind: "security",
        name: `securityContext.${key}`,
        variable: null,
        applied: canonical(value),
        observed: found === undefined ? null : canonical(found),
        default: null,
        note: `capture mode ${expected.captureMode}`,
      });
    }
  }
  return changes;
}

/**
 * The strategic merge patch that puts the capture container back as Tapfleet
 * applied it: the settings' variables set (or removed where Tapfleet left them
 * unset), variables that are no setting removed, the image and the security
 * fields set. Only what differs is in it; every other field stays. Guarded by
 * `resourceVersion`: a change in between is refused (409) and must be seen first.
 */
export function restoreSensorTemplatePatch(options: {
  expected: ExpectedSensorTemplate;
  container: string;
  changes: readonly DriftChange[];
  resourceVersion: string;
}): Json {
  const { expected } = options;
  const env: Json[] = [];
  const patch: Json = { name: options.container };
  for (const change of options.changes) {
    if (change.kind === "setting" && change.variable !== null) {
      const value =
        change.name === "clusterId"
          ? expected.clusterId
          : renderSettingValue(
              change.name as SensorSettingKey,
              (expected.settings[change.name as SensorSettingKey] as SettingValue | undefined) ?? null,
            );
      env.push(
        value === null ? { name: change.variable, $patch: "delete" } : { name: change.variable, value },
      );
    } else if (change.kind === "variable" && change.variable !== null) {
      env.push({ name: change.variable, $patch: "delete" });
    } else if (change.kind === "image" && expected.image !== null) {
      patch.image = expected.image;
    } else if (change.kind === "security" && expected.captureMode !== null) {
      const key = change.name.replace(/^securityContext\./, "");
      const wanted = expectedSecurityContext(expected.captureMode)[key];
      patch.securityContext = { ...(patch.securityContext as Json | undefined), [key]: wanted };
    }
  }
  if (env.length > 0) patch.env = env;
  return {
    metadata: { resourceVersion: options.resourceVersion },
    spec: { template: { spec: { containers: [patch] } } },
  };
}

/** One change in words: "OSSENSOR_DEBUG: Tapfleet applied unset (default 1), the cluster has 4". */
export function describeDriftChange(change: DriftChange): string {
  const show = (value: string | null) =>
    value === null
      ? change.default === null
        ? "unset"
        : `unset (default ${change.default})`
      : JSON.stringify(value);
  const what = change.kind === "container" ? `container ${change.name}` : (change.variable ?? change.name);
  return `${what}: Tapfleet applied ${show(change.applied)}, the cluster has ${show(change.observed)}${change.note ? ` (${change.note})` : ""}`;
}
