// Every agent setting, as environment variables (the osSensor's names and
// defaults, plus HTTPS proxy, collector TLS and TAPFLEET_* additions) and as a
// typed object. One table (`VARIABLES`) drives parsing, rendering, validation
// messages and the README's list, so a new variable cannot be half-added.
//
// Round-trip contract (tested in settings.test.ts):
//  1. For any env that parses, `parseSensorEnv(renderSensorEnv(settings))`
//     gives back the same settings.
//  2. For an env written in canonical form (what `renderSensorEnv` writes:
//     lists joined by one space / one comma), `renderSensorEnv(settings)` is
//     identical to the input env, variable for variable.
// To keep (2) exact, settings remember which variables were set: an unset
// variable is `undefined` in the object and is not rendered, and a variable
// explicitly set to its default is kept and rendered. `resolveSensorSettings`
// fills in the defaults for whoever needs the effective values.
//
// This module is browser-safe (no node: imports): the dashboard validates
// forms with it.

import { z } from "zod";
import { checkBpfFilter } from "./bpf.ts";
import { DEFAULT_CONFIG_PATH } from "./health.ts";
import { checkPatternList } from "./interface-patterns.ts";

/** Largest packet chunk a request may carry; the protocol enforces it too. */
export const CHUNK_MAX_BYTES_LIMIT = 8 * 1024 * 1024;

// Defined with the agent's status file, which lives beside the config file.
export { DEFAULT_CONFIG_PATH };

/** Seconds between an agent's stats reports (TAPFLEET_REPORT_INTERVAL): bounds and default. */
export const REPORT_INTERVAL_SECONDS = { min: 1, max: 3600, default: 10 } as const;

/** The agent's log level (OSSENSOR_DEBUG): bounds and default. */
export const DEBUG_LEVEL = { min: 0, max: 5, default: 1 } as const;

// ---------------------------------------------------------------------------
// Value rules. Each returns a problem (without the variable name) or undefined.

const quote = (value: string): string => JSON.stringify(value);

export function isIpv4(value: string): boolean {
  const parts = value.split(".");
  return (
    parts.length === 4 && parts.every((part) => /^(0|[1-9][0-9]{0,2})$/.test(part) && Number(part) <= 255)
  );
}

export function isIpv6(value: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(value)) return false;
  const halves = value.split("::");
  if (halves.length > 2) return false;
  const groups = (text: string): string[] => (text === "" ? [] : text.split(":"));
  let all = [...groups(halves[0] ?? ""), ...groups(halves[1] ?? "")];
  let count = all.length;
  const last = all.at(-1);
  if (last?.includes(".")) {
    // An embedded IPv4 tail (::ffff:10.0.0.1) stands for two groups.
    if (!isIpv4(last)) return false;
    all = all.slice(0, -1);
    count += 1;
  }
  if (!all.every((group) => /^[0-9A-Fa-f]{1,4}$/.test(group))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

const HOST_NAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** A DNS host name (RFC 1123); all-numeric names must be valid IPv4 instead. */
export function isHostName(value: string): boolean {
  return HOST_NAME.test(value) && !/^[0-9.]+$/.test(value);
}

/** VSENSOR_HOSTNAME: a host name or a bare IP address, nothing else. */
export function checkCollectorHost(value: string, portVariable = "VSENSOR_PORT"): string | undefined {
  if (value === "") return "is required and must not be empty";
  if (/\s/.test(value)) return `${quote(value)} contains whitespace`;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) {
    return `${quote(value)} includes a URL scheme; give only the host name (and the port in ${portVariable})`;
  }
  if (value.includes("/")) return `${quote(value)} contains a path; give only the host name`;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(value);
  if (bracketed !== null) {
    if (bracketed[2] !== undefined) return `${quote(value)} contains a port; put the port in ${portVariable}`;
    return `${quote(value)}: write an IPv6 address without brackets`;
  }
  const colons = value.split(":").length - 1;
  if (colons === 1) {
    const port = value.slice(value.indexOf(":") + 1);
    if (/^[0-9]+$/.test(port)) return `${quote(value)} contains a port; put the port in ${portVariable}`;
    return `${quote(value)} is not a valid host name or IP address`;
  }
  if (colons > 1) return isIpv6(value) ? undefined : `${quote(value)} is not a valid IPv6 address`;
  if (/^[0-9.]+$/.test(value))
    return isIpv4(value) ? undefined : `${quote(value)} is not a valid IPv4 address`;
  return isHostName(value) ? undefined : `${quote(value)} is not a valid host name or IP address`;
}

function checkHmacKey(value: string): string | undefined {
  // Never echo the key: messages end up in logs and the dashboard.
  if (value === "") return "is required and must not be empty";
  if (value.length > 1024) return "is longer than 1024 characters";
  if (!/^[\x21-\x7e]+$/.test(value))
    return "must be printable ASCII without spaces (check for a stray newline or space)";
  return undefined;
}

function checkInterfaceName(value: string): string | undefined {
  if (value === "") return undefined; // explicitly empty: no device pinned
  // Linux dev_valid_name(): 1–15 bytes, not "." or "..", no "/", ":" or whitespace.
  if (value.length > 15 || value === "." || value === ".." || /[/:\s]/.test(value)) {
    return `${quote(value)} is not a Linux interface name (1–15 characters, no "/", ":" or whitespace)`;
  }
  return undefined;
}

function checkAbsolutePath(value: string): string | undefined {
  if (!value.startsWith("/")) return `${quote(value)} must be an absolute path`;
  if (value.endsWith("/")) return `${quote(value)} names a directory; give a file path`;
  if (value.split("/").some((segment) => segment === "..")) return `${quote(value)} must not contain ".."`;
  if (/[\0\n\r]/.test(value) || value.length > 4096) return `${quote(value)} is not a usable file path`;
  return undefined;
}

const range =
  (min: number, max: number, unit = "") =>
  (value: number): string | undefined =>
    Number.isInteger(value) && value >= min && value <= max
      ? undefined
      : `must be between ${min} and ${max}${unit}; got ${value}`;

function checkPatterns(patterns: readonly string[]): string | undefined {
  const bad = patterns.find((pattern) => pattern === "" || /\s/.test(pattern));
  if (bad !== undefined)
    return `pattern ${quote(bad)} is empty or contains whitespace (the list is whitespace-separated)`;
  const result = checkPatternList(patterns.join(" "));
  return result.ok ? undefined : result.problems.join("; ");
}

function checkBpf(value: string): string | undefined {
  const result = checkBpfFilter(value);
  return result.ok
    ? undefined
    : `${quote(value)} is not a valid filter: ${result.message} (at character ${result.index + 1}; the agent compiles it with libpcap)`;
}

function checkProxyUrl(value: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value))
    return `${quote(value)} has no scheme; write it as http://host:port`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${quote(value)} is not a valid URL`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `${quote(value)} must use http:// or https://`;
  if (url.hostname === "") return `${quote(value)} has no host`;
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") {
    return `${quote(value)} must not have a path, query or fragment`;
  }
  return undefined;
}

function checkNoProxyEntry(entry: string): string | undefined {
  if (entry === "*") return undefined;
  const cidr = /^([^/]+)\/([0-9]{1,3})$/.exec(entry);
  if (cidr !== null) {
    const [, address = "", prefix = ""] = cidr;
    if (isIpv4(address) && Number(prefix) <= 32) return undefined;
    if (isIpv6(address) && Number(prefix) <= 128) return undefined;
    return `entry ${quote(entry)} is not a valid CIDR`;
  }
  if (isIpv6(entry)) return undefined;
  const hostPort = /^(\[[^\]]+\]|[^:]+)(?::([0-9]{1,5}))?$/.exec(entry);
  if (hostPort !== null) {
    const host = (hostPort[1] ?? "").replace(/^\[(.*)\]$/, "$1").replace(/^\*?\./, "");
    const port = hostPort[2];
    if ((isHostName(host) || isIpv4(host) || isIpv6(host)) && (port === undefined || Number(port) <= 65535))
      return undefined;
  }
  return `entry ${quote(entry)} is not a host, domain (.example.com), IP, CIDR or *`;
}

function checkNoProxy(entries: readonly string[]): string | undefined {
  for (const entry of entries) {
    const problem = checkNoProxyEntry(entry);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

const CLUSTER_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

// ---------------------------------------------------------------------------
// The schema of the settings object.

type Rule<T> = (value: T) => string | undefined;

function ruled<S extends z.ZodType>(schema: S, variable: string, rule: Rule<z.output<S>>) {
  return schema.superRefine((value, context) => {
    const problem = rule(value);
    if (problem !== undefined) context.addIssue({ code: "custom", message: `${variable}: ${problem}` });
  });
}

/** A missing required setting says so, instead of naming the type it lacks. */
const typeError =
  (variable: string, expected: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? `${variable}: is required` : `${variable}: ${expected}`;

const text = (variable: string, rule: Rule<string>) =>
  ruled(z.string({ error: typeError(variable, "must be a string") }), variable, rule);
const integer = (variable: string, rule: Rule<number>) =>
  ruled(z.number({ error: typeError(variable, "must be a number") }), variable, rule);
const flag = (variable: string) => z.boolean({ error: typeError(variable, "must be true or false") });
const list = (variable: string, rule: Rule<string[]>) =>
  ruled(
    z.array(z.string({ error: `${variable}: every entry must be a string` }), {
      error: `${variable}: must be a list`,
    }),
    variable,
    rule,
  );

const SETTINGS_SHAPE = {
  collectorHost: text("VSENSOR_HOSTNAME", (value) => checkCollectorHost(value)),
  hmacKey: text("VSENSOR_HMAC_KEY", checkHmacKey),
  collectorPort: integer("VSENSOR_PORT", range(1, 65535)).optional(),
  networkDevice: text("OSSENSOR_NETWORK_DEVICE", checkInterfaceName).optional(),
  configPath: text("OSSENSOR_CONFIG_PATH", checkAbsolutePath).optional(),
  debugLevel: integer("OSSENSOR_DEBUG", range(DEBUG_LEVEL.min, DEBUG_LEVEL.max)).optional(),
  antigenaEnabled: flag("ANTIGENA_ENABLED").optional(),
  antigenaTimePeriodSeconds: integer("ANTIGENA_TIME_PERIOD", range(1, 86400, " seconds")).optional(),
  includeList: list("NETWORK_DEVICE_INCLUDELIST", checkPatterns).optional(),
  excludeList: list("NETWORK_DEVICE_EXCLUDELIST", checkPatterns).optional(),
  captureNewDevices: flag("NETWORK_DEVICE_ANY").optional(),
  bpf: text("BPF", checkBpf).optional(),
  httpsProxy: text("HTTPS_PROXY", checkProxyUrl).optional(),
  noProxy: list("NO_PROXY", checkNoProxy).optional(),
  tlsCaFile: text("VSENSOR_TLS_CA_FILE", checkAbsolutePath).optional(),
  tlsServerName: text("VSENSOR_TLS_SERVER_NAME", (value) =>
    isHostName(value)
      ? undefined
      : `${quote(value)} is not a DNS name (it is sent as TLS SNI and checked against the certificate)`,
  ).optional(),
  tlsInsecure: flag("VSENSOR_TLS_INSECURE").optional(),
  clusterId: text("TAPFLEET_CLUSTER_ID", (value) =>
    CLUSTER_ID.test(value)
      ? undefined
      : `${quote(value)} must be 1–63 lowercase letters, digits or "-", starting and ending with a letter or digit`,
  ).optional(),
  keyId: text("TAPFLEET_KEY_ID", (value) =>
    KEY_ID.test(value)
      ? undefined
      : `${quote(value)} must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit`,
  ).optional(),
  reportIntervalSeconds: integer(
    "TAPFLEET_REPORT_INTERVAL",
    range(REPORT_INTERVAL_SECONDS.min, REPORT_INTERVAL_SECONDS.max, " seconds"),
  ).optional(),
  chunkMaxBytes: integer("TAPFLEET_CHUNK_MAX_BYTES", range(1024, CHUNK_MAX_BYTES_LIMIT, " bytes")).optional(),
  uploadBytesPerSecond: integer(
    "TAPFLEET_UPLOAD_BYTES_PER_SECOND",
    range(0, Number.MAX_SAFE_INTEGER, " bytes per second"),
  ).optional(),
};

const UNKNOWN_SETTINGS = {
  error: (issue: z.core.$ZodRawIssue) =>
    issue.code === "unrecognized_keys" ? `unknown setting(s): ${issue.keys.join(", ")}` : undefined,
};

/** Rules between settings, checked on whole settings (and on a profile merged with its override). */
function checkSettingCombinations(
  settings: { tlsInsecure?: boolean | undefined; tlsCaFile?: string | undefined },
  context: z.core.$RefinementCtx,
): void {
  if (settings.tlsInsecure === true && settings.tlsCaFile !== undefined) {
    context.addIssue({
      code: "custom",
      path: ["tlsInsecure"],
      message:
        "VSENSOR_TLS_INSECURE: cannot be true while VSENSOR_TLS_CA_FILE is set; a CA file is only useful when certificates are verified",
    });
  }
}

export const ZSensorSettingsSchema = z
  .strictObject(SETTINGS_SHAPE, UNKNOWN_SETTINGS)
  .superRefine(checkSettingCombinations);

/**
 * Settings that belong to a cluster, not to a configuration profile: the HMAC
 * key (a secret, delivered from the cluster's Secret) and the identity the
 * agent reports with. A rollout adds them for each cluster.
 */
export const CLUSTER_SETTING_KEYS = ["hmacKey", "clusterId", "keyId"] as const;

const { hmacKey: _hmacKey, clusterId: _clusterId, keyId: _keyId, ...PROFILE_SHAPE } = SETTINGS_SHAPE;

/** The settings a configuration profile revision holds: every setting except CLUSTER_SETTING_KEYS. */
export const ZProfileSettingsSchema = z
  .strictObject(PROFILE_SHAPE, UNKNOWN_SETTINGS)
  .superRefine(checkSettingCombinations);
export type ProfileSettings = z.output<typeof ZProfileSettingsSchema>;

/**
 * A per-cluster override of a profile: any profile settings, each optional
 * (the collector host per region, say). Combinations are checked once merged.
 */
export const ZProfileOverrideSchema = z.strictObject(
  { ...PROFILE_SHAPE, collectorHost: PROFILE_SHAPE.collectorHost.optional() },
  UNKNOWN_SETTINGS,
);
export type ProfileOverride = z.output<typeof ZProfileOverrideSchema>;

export type SensorSettings = z.output<typeof ZSensorSettingsSchema>;
export type SensorSettingKey = keyof SensorSettings;

// ---------------------------------------------------------------------------
// The variable table.

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

interface Codec<T> {
  parse(raw: string): Parsed<T>;
  render(value: T): string;
}

const stringCodec: Codec<string> = { parse: (raw) => ({ ok: true, value: raw }), render: (value) => value };

const integerCodec: Codec<number> = {
  parse: (raw) =>
    // Only canonical decimal, so that rendering gives back the same text.
    /^(0|[1-9][0-9]{0,15})$/.test(raw)
      ? { ok: true, value: Number(raw) }
      : {
          ok: false,
          problem: `${quote(raw)} is not a whole number (digits only, no sign, spaces or leading zeros)`,
        },
  render: (value) => String(value),
};

const booleanCodec: Codec<boolean> = {
  parse: (raw) =>
    raw === "true" || raw === "false"
      ? { ok: true, value: raw === "true" }
      : { ok: false, problem: `${quote(raw)} is not a boolean; write true or false` },
  render: (value) => String(value),
};

const zeroOneCodec: Codec<boolean> = {
  parse: (raw) =>
    raw === "0" || raw === "1"
      ? { ok: true, value: raw === "1" }
      : { ok: false, problem: `${quote(raw)} must be 0 or 1` },
  render: (value) => (value ? "1" : "0"),
};

const whitespaceListCodec: Codec<string[]> = {
  parse: (raw) => ({ ok: true, value: raw.split(/\s+/).filter((part) => part !== "") }),
  render: (value) => value.join(" "),
};

const commaListCodec: Codec<string[]> = {
  parse: (raw) => ({
    ok: true,
    value: raw
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== ""),
  }),
  render: (value) => value.join(","),
};

export interface SensorVariable<K extends SensorSettingKey = SensorSettingKey> {
  /** The environment variable. */
  variable: string;
  /** The field of `SensorSettings`. */
  key: K;
  required: boolean;
  /** The effective value when the variable is unset (undefined: no default, feature off). */
  default: NonNullable<SensorSettings[K]> | undefined;
  /** Does the value need to stay out of logs, errors and manifests' plain env? */
  secret: boolean;
  /** One line for docs and the dashboard. */
  description: string;
  codec: Codec<NonNullable<SensorSettings[K]>>;
}

function variable<K extends SensorSettingKey>(
  spec: Omit<SensorVariable<K>, "secret" | "required"> & { secret?: boolean; required?: boolean },
): SensorVariable<K> {
  return { secret: false, required: false, ...spec };
}

/** Every setting the agent reads, in the order `renderSensorEnv` writes them. */
export const SENSOR_VARIABLES = [
  variable({
    variable: "VSENSOR_HOSTNAME",
    key: "collectorHost",
    required: true,
    default: undefined,
    codec: stringCodec,
    description:
      "Host name or IP address of the collector (the Tapfleet server's ingest endpoint). No port, scheme or path.",
  }),
  variable({
    variable: "VSENSOR_HMAC_KEY",
    key: "hmacKey",
    required: true,
    secret: true,
    default: undefined,
    codec: stringCodec,
    description: "HMAC-SHA256 key that signs every request to the collector. Delivered from a Secret.",
  }),
  variable({
    variable: "VSENSOR_PORT",
    key: "collectorPort",
    default: 443,
    codec: integerCodec,
    description: "TCP port of the collector.",
  }),
  variable({
    variable: "OSSENSOR_NETWORK_DEVICE",
    key: "networkDevice",
    default: undefined,
    codec: stringCodec,
    description: "Capture on exactly this interface; when set, the include/exclude lists are ignored.",
  }),
  variable({
    variable: "OSSENSOR_CONFIG_PATH",
    key: "configPath",
    default: DEFAULT_CONFIG_PATH,
    codec: stringCodec,
    description: "Where the agent writes its generated config file.",
  }),
  variable({
    variable: "OSSENSOR_DEBUG",
    key: "debugLevel",
    default: DEBUG_LEVEL.default,
    codec: integerCodec,
    description: "Log level 0 (info) to 5 (every packet dumped as hex).",
  }),
  variable({
    variable: "ANTIGENA_ENABLED",
    key: "antigenaEnabled",
    default: true,
    codec: booleanCodec,
    description: "Poll the server for response actions (Antigena: pcap snapshots) and run them.",
  }),
  variable({
    variable: "ANTIGENA_TIME_PERIOD",
    key: "antigenaTimePeriodSeconds",
    default: 5,
    codec: integerCodec,
    description: "Seconds between polls for response actions.",
  }),
  variable({
    variable: "NETWORK_DEVICE_INCLUDELIST",
    key: "includeList",
    default: [],
    codec: whitespaceListCodec,
    description: "Whitespace-separated egrep patterns; only matching interfaces are captured.",
  }),
  variable({
    variable: "NETWORK_DEVICE_EXCLUDELIST",
    key: "excludeList",
    default: [],
    codec: whitespaceListCodec,
    description:
      "Whitespace-separated egrep patterns; matching interfaces are never captured (wins over the include list).",
  }),
  variable({
    variable: "NETWORK_DEVICE_ANY",
    key: "captureNewDevices",
    default: false,
    codec: zeroOneCodec,
    description: "1: also capture on interfaces that appear after start (same include/exclude rules).",
  }),
  variable({
    variable: "BPF",
    key: "bpf",
    default: "",
    codec: stringCodec,
    description: "Berkeley Packet Filter expression applied to the capture.",
  }),
  variable({
    variable: "HTTPS_PROXY",
    key: "httpsProxy",
    default: undefined,
    codec: stringCodec,
    description: "Proxy for the agent's HTTPS traffic to the collector, as http://host:port.",
  }),
  variable({
    variable: "NO_PROXY",
    key: "noProxy",
    default: [],
    codec: commaListCodec,
    description: "Comma-separated hosts, .domains, IPs or CIDRs reached without the proxy.",
  }),
  variable({
    variable: "VSENSOR_TLS_CA_FILE",
    key: "tlsCaFile",
    default: undefined,
    codec: stringCodec,
    description: "PEM bundle of CAs trusted for the collector's certificate, instead of the system roots.",
  }),
  variable({
    variable: "VSENSOR_TLS_SERVER_NAME",
    key: "tlsServerName",
    default: undefined,
    codec: stringCodec,
    description:
      "Name sent as SNI and checked against the collector's certificate (default: VSENSOR_HOSTNAME).",
  }),
  variable({
    variable: "VSENSOR_TLS_INSECURE",
    key: "tlsInsecure",
    default: false,
    codec: booleanCodec,
    description: "true: do not verify the collector's certificate (testing only; requests stay HMAC-signed).",
  }),
  variable({
    variable: "TAPFLEET_CLUSTER_ID",
    key: "clusterId",
    default: undefined,
    codec: stringCodec,
    description: "The cluster this agent reports for; required by the Tapfleet server.",
  }),
  variable({
    variable: "TAPFLEET_KEY_ID",
    key: "keyId",
    default: undefined,
    codec: stringCodec,
    description: "Key id sent with each signature (default: TAPFLEET_CLUSTER_ID).",
  }),
  variable({
    variable: "TAPFLEET_REPORT_INTERVAL",
    key: "reportIntervalSeconds",
    default: REPORT_INTERVAL_SECONDS.default,
    codec: integerCodec,
    description: "Seconds between stats reports.",
  }),
  variable({
    variable: "TAPFLEET_CHUNK_MAX_BYTES",
    key: "chunkMaxBytes",
    default: 1024 * 1024,
    codec: integerCodec,
    description: "Largest packet chunk (pcap bytes) per upload.",
  }),
  variable({
    variable: "TAPFLEET_UPLOAD_BYTES_PER_SECOND",
    key: "uploadBytesPerSecond",
    default: 0,
    codec: integerCodec,
    description:
      "Cap on packet-chunk upload bandwidth; 0 means no cap. Chunks over the cap are dropped and counted.",
  }),
] as const satisfies ReadonlyArray<SensorVariable>;

/** Variable names, for "is this ours?" checks. */
export const SENSOR_VARIABLE_NAMES: ReadonlySet<string> = new Set(
  SENSOR_VARIABLES.map((spec) => spec.variable),
);

/** Set by the DaemonSet from the downward API; the agent reads them, they are not settings. */
export const DOWNWARD_API_VARIABLES = {
  TAPFLEET_NODE_NAME: "spec.nodeName",
  TAPFLEET_POD_NAME: "metadata.name",
  TAPFLEET_POD_NAMESPACE: "metadata.namespace",
} as const;

const VARIABLE_BY_KEY = new Map<string, SensorVariable>(
  SENSOR_VARIABLES.map((spec) => [spec.key, spec as SensorVariable]),
);

/** The environment variable behind a settings field. */
export function sensorVariableFor(key: SensorSettingKey): string {
  return VARIABLE_BY_KEY.get(key)?.variable ?? key;
}

// ---------------------------------------------------------------------------
// Parse, render, resolve.

export interface SensorEnvError {
  variable: string;
  /** Starts with the variable's name, so it reads well on its own. */
  message: string;
}

export type ParseSensorEnvResult =
  { ok: true; settings: SensorSettings; warnings: string[] } | { ok: false; errors: SensorEnvError[] };

export type SensorEnv = Readonly<Record<string, string | undefined>>;

const OUR_PREFIXES = /^(VSENSOR_|OSSENSOR_|ANTIGENA_|NETWORK_DEVICE_|TAPFLEET_)/;

/**
 * Parses the agent's settings from an environment. Variables that are not
 * ours are ignored (an agent's env has PATH and friends) except look-alikes
 * with our prefixes, which are warned about: a misspelt name is otherwise a
 * silently ignored setting.
 */
export function parseSensorEnv(env: SensorEnv): ParseSensorEnvResult {
  const errors: SensorEnvError[] = [];
  const candidate: Record<string, unknown> = {};
  for (const spec of SENSOR_VARIABLES as ReadonlyArray<SensorVariable>) {
    const raw = env[spec.variable];
    if (raw === undefined) {
      if (spec.required) errors.push({ variable: spec.variable, message: `${spec.variable}: is required` });
      continue;
    }
    const parsed = spec.codec.parse(raw);
    if (parsed.ok) candidate[spec.key] = parsed.value;
    else
      errors.push({
        variable: spec.variable,
        message: `${spec.variable}: ${spec.secret ? "has an invalid value" : parsed.problem}`,
      });
  }
  const failed = new Set(errors.map((error) => error.variable));
  const result = ZSensorSettingsSchema.safeParse(candidate);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path[0];
      const variableName = typeof key === "string" ? sensorVariableFor(key as SensorSettingKey) : "settings";
      // A value that failed to parse is absent from the candidate; zod would add "required" noise.
      if (failed.has(variableName)) continue;
      errors.push({
        variable: variableName,
        message: issue.message.startsWith(`${variableName}:`)
          ? issue.message
          : `${variableName}: ${issue.message}`,
      });
    }
  }
  if (errors.length > 0 || !result.success) return { ok: false, errors };
  const warnings = sensorSettingsWarnings(result.data);
  for (const name of Object.keys(env)) {
    if (OUR_PREFIXES.test(name) && !SENSOR_VARIABLE_NAMES.has(name) && !(name in DOWNWARD_API_VARIABLES)) {
      warnings.push(`${name}: is not a sensor setting and is ignored (check the spelling)`);
    }
  }
  return { ok: true, settings: result.data, warnings };
}

/**
 * Renders settings to environment variables: exactly the fields that are set,
 * in table order. Throws if the settings are invalid (validate first).
 */
export function renderSensorEnv(settings: SensorSettings): Record<string, string> {
  const valid = ZSensorSettingsSchema.parse(settings);
  const env: Record<string, string> = {};
  for (const spec of SENSOR_VARIABLES as ReadonlyArray<SensorVariable>) {
    const value = valid[spec.key];
    if (value !== undefined) env[spec.variable] = (spec.codec as Codec<typeof value>).render(value);
  }
  return env;
}

export type ResolvedSensorSettings = Required<
  Omit<SensorSettings, "networkDevice" | "httpsProxy" | "tlsCaFile" | "tlsServerName" | "clusterId" | "keyId">
> &
  Pick<
    SensorSettings,
    "networkDevice" | "httpsProxy" | "tlsCaFile" | "tlsServerName" | "clusterId" | "keyId"
  >;

/** The settings the agent acts on: defaults filled in, key id defaulted to the cluster id, empty device meaning none. */
export function resolveSensorSettings(settings: SensorSettings): ResolvedSensorSettings {
  const resolved: Record<string, unknown> = {};
  for (const spec of SENSOR_VARIABLES as ReadonlyArray<SensorVariable>) {
    const value = settings[spec.key] ?? spec.default;
    if (value !== undefined) resolved[spec.key] = Array.isArray(value) ? [...value] : value;
  }
  if (resolved.keyId === undefined && settings.clusterId !== undefined) resolved.keyId = settings.clusterId;
  if (resolved.networkDevice === "") delete resolved.networkDevice;
  return resolved as ResolvedSensorSettings;
}

/** Things that are allowed but probably not meant. */
export function sensorSettingsWarnings(settings: SensorSettings): string[] {
  const warnings: string[] = [];
  if (settings.hmacKey.length < 16) {
    warnings.push("VSENSOR_HMAC_KEY: is shorter than 16 characters; use a random key of 32 or more");
  }
  if (
    settings.networkDevice !== undefined &&
    settings.networkDevice !== "" &&
    ((settings.includeList?.length ?? 0) > 0 || (settings.excludeList?.length ?? 0) > 0)
  ) {
    warnings.push(
      "OSSENSOR_NETWORK_DEVICE: pins capture to one interface; NETWORK_DEVICE_INCLUDELIST and NETWORK_DEVICE_EXCLUDELIST are ignored",
    );
  }
  if (settings.tlsInsecure === true) {
    warnings.push(
      "VSENSOR_TLS_INSECURE: the collector's certificate is not verified; use it for testing only",
    );
  }
  if (settings.httpsProxy?.includes("@") === true) {
    warnings.push("HTTPS_PROXY: contains credentials, which end up in the pod spec in plain text");
  }
  for (const [variableName, list] of [
    ["NETWORK_DEVICE_INCLUDELIST", settings.includeList],
    ["NETWORK_DEVICE_EXCLUDELIST", settings.excludeList],
  ] as const) {
    const check = checkPatternList((list ?? []).join(" "));
    if (check.ok) warnings.push(...check.warnings.map((warning) => `${variableName}: ${warning}`));
  }
  return warnings;
}

/** One message per line, for CLIs and logs. */
export function formatSensorEnvErrors(errors: readonly SensorEnvError[]): string {
  return errors.map((error) => error.message).join("\n");
}
