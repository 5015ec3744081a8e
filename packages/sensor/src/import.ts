// Import of an existing sensor DaemonSet (the osSensor's example, a Soveren-
// style interceptor, or one we rendered) into settings, so that a cluster that
// already runs a sensor can be adopted without retyping its configuration.
//
// Env entries are read the way the kubelet reads them: literal `value`s (a
// missing value is ""), the last of duplicate names wins, `secretKeyRef` and
// `configMapKeyRef` resolve against Secrets/ConfigMaps in the same YAML or
// through the caller's resolver (pure: the caller fetches from the cluster).

import { parseAllDocuments } from "yaml";
import {
  DOWNWARD_API_VARIABLES,
  SENSOR_VARIABLE_NAMES,
  parseSensorEnv,
  type SensorEnvError,
  type SensorSettings,
} from "./settings.ts";

export interface ObjectReference {
  namespace: string | undefined;
  name: string;
  key: string;
}

export interface ImportOptions {
  /** Looks up a Secret's value (decoded) when the Secret is not in the YAML. */
  resolveSecret?: (reference: ObjectReference) => string | undefined;
  /** Looks up a ConfigMap's value when the ConfigMap is not in the YAML. */
  resolveConfigMap?: (reference: ObjectReference) => string | undefined;
}

export interface ImportSource {
  name: string;
  namespace: string | undefined;
  container: string;
  image: string | undefined;
  hostNetwork: boolean;
}

export type HmacKeySource =
  | { kind: "literal" }
  | { kind: "secretKeyRef"; name: string; key: string }
  | { kind: "configMapKeyRef"; name: string; key: string }
  | { kind: "missing" };

interface ImportCommon {
  warnings: string[];
  /** Env variables of the container that are not sensor settings; they are not carried over. */
  unknownVariables: string[];
  /** Literal env of the recognised variables, as found (secret values left out). */
  env: Record<string, string>;
  hmacKeySource: HmacKeySource;
}

export type ImportResult =
  | ({ ok: true; settings: SensorSettings; source: ImportSource } & ImportCommon)
  | ({ ok: false; errors: SensorEnvError[]; source: ImportSource | undefined } & ImportCommon);

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const asString = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

function metadataOf(object: Json): { name: string; namespace: string | undefined } {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  return { name: asString(metadata.name) ?? "", namespace: asString(metadata.namespace) };
}

function hasSensorEnv(container: unknown): boolean {
  return (
    isObject(container) &&
    asArray(container.env).some((entry) => isObject(entry) && entry.name === "VSENSOR_HOSTNAME")
  );
}

function podSpecOf(daemonSet: Json): Json {
  const spec = isObject(daemonSet.spec) ? daemonSet.spec : {};
  const template = isObject(spec.template) ? spec.template : {};
  return isObject(template.spec) ? template.spec : {};
}

/**
 * Reads a sensor DaemonSet (multi-document YAML allowed; Secrets and
 * ConfigMaps in it are used to resolve references) into settings. Settings
 * that fail validation come back as errors naming their variables.
 */
export function importSensorDaemonSet(yamlText: string, options: ImportOptions = {}): ImportResult {
  const yamlFailure = (message: string): ImportResult => ({
    ok: false,
    errors: [{ variable: "(yaml)", message }],
    source: undefined,
    warnings: [],
    unknownVariables: [],
    env: {},
    hmacKeySource: { kind: "missing" },
  });
  const documents = parseAllDocuments(yamlText);
  if (!Array.isArray(documents)) return yamlFailure("(yaml): no documents");
  const objects: unknown[] = [];
  for (const [index, document] of documents.entries()) {
    const firstError = document.errors[0];
    if (firstError !== undefined) return yamlFailure(`(yaml): document ${index + 1}: ${firstError.message}`);
    objects.push(document.toJS());
  }
  return importSensorObjects(objects, options);
}

/**
 * The same import from objects already parsed (a DaemonSet read from the
 * cluster's API, say): Lists are unpacked, Secrets and ConfigMaps among the
 * objects resolve references.
 */
export function importSensorObjects(given: readonly unknown[], options: ImportOptions = {}): ImportResult {
  const warnings: string[] = [];
  const unknownVariables: string[] = [];
  const env: Record<string, string> = {};
  let hmacKeySource: HmacKeySource = { kind: "missing" };
  const failure = (errors: SensorEnvError[], source?: ImportSource): ImportResult => ({
    ok: false,
    errors,
    source,
    warnings,
    unknownVariables,
    env,
    hmacKeySource,
  });

  const objects: Json[] = [];
  for (const value of given) {
    if (isObject(value) && value.kind === "List") objects.push(...asArray(value.items).filter(isObject));
    else if (isObject(value)) objects.push(value);
  }
  const daemonSets = objects.filter((object) => object.kind === "DaemonSet");
  if (daemonSets.length === 0)
    return failure([{ variable: "(yaml)", message: "(yaml): no DaemonSet found" }]);
  const daemonSet =
    daemonSets.find((candidate) => asArray(podSpecOf(candidate).containers).some(hasSensorEnv)) ??
    daemonSets[0];
  if (daemonSet === undefined)
    return failure([{ variable: "(yaml)", message: "(yaml): no DaemonSet found" }]);
  if (daemonSets.length > 1)
    warnings.push(
      `(yaml): ${daemonSets.length} DaemonSets found; imported ${JSON.stringify(metadataOf(daemonSet).name)}`,
    );

  // --- Container
  const podSpec = podSpecOf(daemonSet);
  const containers = asArray(podSpec.containers).filter(isObject);
  const withSensorEnv = containers.filter(hasSensorEnv);
  const container =
    withSensorEnv[0] ?? containers.find((candidate) => candidate.name === "capture") ?? containers[0];
  const { name, namespace } = metadataOf(daemonSet);
  if (container === undefined)
    return failure([
      { variable: "(yaml)", message: `(yaml): DaemonSet ${JSON.stringify(name)} has no containers` },
    ]);
  if (withSensorEnv.length > 1)
    warnings.push(
      `(yaml): several containers set VSENSOR_HOSTNAME; imported ${JSON.stringify(container.name)}`,
    );
  const source: ImportSource = {
    name,
    namespace,
    container: asString(container.name) ?? "",
    image: asString(container.image),
    hostNetwork: podSpec.hostNetwork === true,
  };
  if (!source.hostNetwork)
    warnings.push(
      "hostNetwork: is not true; the sensor would not see the node's traffic (the Tapfleet DaemonSet sets it)",
    );
  if (asArray(container.envFrom).length > 0)
    warnings.push("envFrom: variables from envFrom are not imported; list them under env");

  // --- References into Secrets and ConfigMaps of the same YAML
  const lookup = (kind: "Secret" | "ConfigMap", reference: ObjectReference): string | undefined => {
    for (const object of objects) {
      if (object.kind !== kind) continue;
      const meta = metadataOf(object);
      if (
        meta.name !== reference.name ||
        (meta.namespace !== undefined &&
          reference.namespace !== undefined &&
          meta.namespace !== reference.namespace)
      )
        continue;
      const stringData = isObject(object.stringData) ? asString(object.stringData[reference.key]) : undefined;
      if (stringData !== undefined) return stringData;
      const data = isObject(object.data) ? asString(object.data[reference.key]) : undefined;
      if (data !== undefined) return kind === "Secret" ? Buffer.from(data, "base64").toString("utf8") : data;
    }
    return kind === "Secret" ? options.resolveSecret?.(reference) : options.resolveConfigMap?.(reference);
  };

  // --- Env
  const errors: SensorEnvError[] = [];
  const values = new Map<string, string>();
  const seen = new Set<string>();
  for (const entry of asArray(container.env)) {
    if (!isObject(entry) || typeof entry.name !== "string") {
      warnings.push("env: an entry without a name is ignored");
      continue;
    }
    const variable = entry.name;
    if (seen.has(variable))
      warnings.push(`${variable}: is listed more than once; the last entry wins, as in Kubernetes`);
    seen.add(variable);
    if (variable in DOWNWARD_API_VARIABLES) continue;
    if (!SENSOR_VARIABLE_NAMES.has(variable)) {
      if (!unknownVariables.includes(variable)) unknownVariables.push(variable);
      continue;
    }
    errors.splice(0, errors.length, ...errors.filter((error) => error.variable !== variable));
    values.delete(variable);
    const valueFrom = isObject(entry.valueFrom) ? entry.valueFrom : undefined;
    if (valueFrom === undefined) {
      let value: unknown = entry.value ?? "";
      if (typeof value === "number" || typeof value === "boolean") {
        warnings.push(
          `${variable}: the value ${String(value)} is not a string; kubectl rejects unquoted numbers and booleans in env, quote it`,
        );
        value = String(value);
      }
      if (typeof value !== "string") {
        errors.push({ variable, message: `${variable}: value is not a string` });
        continue;
      }
      values.set(variable, value);
      if (variable === "VSENSOR_HMAC_KEY") {
        hmacKeySource = { kind: "literal" };
        warnings.push(
          "VSENSOR_HMAC_KEY: is a literal in the DaemonSet, readable by anyone who can read DaemonSets; Tapfleet moves it into a Secret",
        );
      } else {
        env[variable] = value;
      }
      continue;
    }
    const secretRef = isObject(valueFrom.secretKeyRef) ? valueFrom.secretKeyRef : undefined;
    const configMapRef = isObject(valueFrom.configMapKeyRef) ? valueFrom.configMapKeyRef : undefined;
    const ref = secretRef ?? configMapRef;
    if (ref === undefined) {
      errors.push({
        variable,
        message: `${variable}: only value, secretKeyRef and configMapKeyRef can be imported`,
      });
      continue;
    }
    const kind = secretRef !== undefined ? "Secret" : "ConfigMap";
    const reference: ObjectReference = {
      namespace,
      name: asString(ref.name) ?? "",
      key: asString(ref.key) ?? "",
    };
    if (variable === "VSENSOR_HMAC_KEY") {
      hmacKeySource = {
        kind: kind === "Secret" ? "secretKeyRef" : "configMapKeyRef",
        name: reference.name,
        key: reference.key,
      };
    }
    const resolved = lookup(kind, reference);
    if (resolved === undefined) {
      if (ref.optional === true) continue; // an optional reference that is absent leaves the variable unset
      errors.push({
        variable,
        message: `${variable}: comes from ${kind} ${JSON.stringify(reference.name)} key ${JSON.stringify(reference.key)}, which is neither in the YAML nor found by resolve${kind}`,
      });
      continue;
    }
    values.set(variable, resolved);
    if (kind === "Secret" || variable === "VSENSOR_HMAC_KEY") continue; // keep secret values out of `env`
    env[variable] = resolved;
  }
  for (const variable of unknownVariables) {
    warnings.push(`${variable}: is not a sensor setting and is not carried over`);
  }

  const parsed = parseSensorEnv(Object.fromEntries(values));
  if (!parsed.ok) {
    // Keep the reference errors; drop parse's "is required" for variables they already explain.
    const explained = new Set(errors.map((error) => error.variable));
    return failure([...errors, ...parsed.errors.filter((error) => !explained.has(error.variable))], source);
  }
  if (errors.length > 0) return failure(errors, source);
  warnings.push(...parsed.warnings);
  return { ok: true, settings: parsed.settings, source, warnings, unknownVariables, env, hmacKeySource };
}
