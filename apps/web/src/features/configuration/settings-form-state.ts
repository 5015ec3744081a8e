// The profile editor's form, generated from the contract's variable table:
// every field is the variable's text as it would appear in the environment
// (the codec reads and writes it), "" meaning unset (the default applies).
// Validation is the contract's own schema, so the browser refuses what the
// server refuses (the server also compiles BPF with libpcap).

import {
  CLUSTER_SETTING_KEYS,
  SENSOR_VARIABLES,
  ZProfileOverrideSchema,
  ZProfileSettingsSchema,
  type SensorVariable,
} from "@tapfleet/sensor/settings";

export type FormValues = Record<string, string>;
export type FieldErrors = Partial<Record<string, string>>;

const CLUSTER_KEYS: ReadonlySet<string> = new Set(CLUSTER_SETTING_KEYS);

/** The settings a profile edits, in the contract's order. */
export const PROFILE_FIELDS = (SENSOR_VARIABLES as ReadonlyArray<SensorVariable>).filter(
  (spec) => !CLUSTER_KEYS.has(spec.key),
);

export type FieldKind = "boolean" | "number" | "list" | "text";

export function fieldKind(spec: SensorVariable): FieldKind {
  const sample = spec.codec.parse("1");
  if (Array.isArray(spec.default)) return "list";
  if (typeof spec.default === "boolean") return "boolean";
  if (typeof spec.default === "number" || (sample.ok && typeof sample.value === "number")) return "number";
  return "text";
}

/** The default as the variable's text, for placeholders ("" when there is none). */
export function defaultText(spec: SensorVariable): string {
  if (spec.default === undefined) return "";
  return (spec.codec.render as (value: unknown) => string)(spec.default);
}

/** Form values for stored settings: each set value written as its variable's text. */
export function formValuesFromSettings(settings: Readonly<Record<string, unknown>>): FormValues {
  const values: FormValues = {};
  for (const spec of PROFILE_FIELDS) {
    const value = settings[spec.key];
    values[spec.key] = value === undefined ? "" : (spec.codec.render as (value: unknown) => string)(value);
  }
  return values;
}

export type FormResult =
  | { ok: true; settings: Record<string, unknown> }
  | { ok: false; errors: FieldErrors; settings: Record<string, unknown> };

/**
 * Reads the form into settings and validates them with the contract's schema;
 * errors are keyed by setting. `mode: "override"` allows every field to be empty.
 */
export function readSettingsForm(values: FormValues, mode: "profile" | "override" = "profile"): FormResult {
  const errors: FieldErrors = {};
  const settings: Record<string, unknown> = {};
  for (const spec of PROFILE_FIELDS) {
    const raw = (values[spec.key] ?? "").trim();
    if (raw === "") continue;
    const parsed = spec.codec.parse(raw);
    if (parsed.ok) settings[spec.key] = parsed.value;
    else errors[spec.key] = `${spec.variable}: ${parsed.problem}`;
  }
  const schema = mode === "profile" ? ZProfileSettingsSchema : ZProfileOverrideSchema;
  const result = schema.safeParse(settings);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = typeof issue.path[0] === "string" ? issue.path[0] : "collectorHost";
      errors[key] ??= issue.message;
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors, settings };
  return { ok: true, settings };
}

/**
 * Why a form with errors cannot be saved, naming the fields (the errors sit under fields that may
 * be scrolled out of view): "Fix Collector host and BPF filter above." Undefined without errors.
 */
export function describeFieldErrors(errors: FieldErrors): string | undefined {
  const labels = Object.keys(errors)
    .filter((key) => errors[key] !== undefined)
    .map(labelOf);
  if (labels.length === 0) return undefined;
  const named = labels.length === 1 ? labels[0] : `${labels.slice(0, -1).join(", ")} and ${labels.at(-1)}`;
  return `Fix ${named} above.`;
}

export function labelOf(key: string): string {
  return LABELS[key] ?? key;
}

const LABELS: Record<string, string> = {
  collectorHost: "Collector host",
  collectorPort: "Collector port",
  networkDevice: "Capture device",
  configPath: "Config file path",
  debugLevel: "Debug level",
  antigenaEnabled: "Response actions (Antigena)",
  antigenaTimePeriodSeconds: "Response action poll period",
  includeList: "Include interfaces",
  excludeList: "Exclude interfaces",
  captureNewDevices: "Capture new interfaces",
  bpf: "BPF filter",
  httpsProxy: "HTTPS proxy",
  noProxy: "No proxy for",
  tlsCaFile: "Collector CA file",
  tlsServerName: "Collector TLS server name",
  tlsInsecure: "Skip TLS verification",
  reportIntervalSeconds: "Report interval",
  chunkMaxBytes: "Largest packet chunk",
  uploadBytesPerSecond: "Upload bandwidth cap",
};

/** Groups of the editor, by what an operator is deciding. */
export const FIELD_GROUPS: Array<{ title: string; keys: string[] }> = [
  {
    title: "Collector",
    keys: ["collectorHost", "collectorPort", "tlsServerName", "tlsCaFile", "tlsInsecure"],
  },
  {
    title: "Capture",
    keys: ["includeList", "excludeList", "networkDevice", "captureNewDevices", "bpf"],
  },
  {
    title: "Agent",
    keys: ["debugLevel", "reportIntervalSeconds", "configPath", "chunkMaxBytes", "uploadBytesPerSecond"],
  },
  { title: "Response actions", keys: ["antigenaEnabled", "antigenaTimePeriodSeconds"] },
  { title: "Proxy", keys: ["httpsProxy", "noProxy"] },
];

/** A stored value as short text for tables ("—" when unset). */
export function formatSettingValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.length === 0 ? "(empty list)" : value.join(" ");
  if (value === "") return '""';
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
    ? String(value)
    : JSON.stringify(value);
}
