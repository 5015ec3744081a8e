import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ZProfileOverrideSchema,
  ZProfileSettingsSchema,
  DEFAULT_CONFIG_PATH,
  SENSOR_VARIABLES,
  ZSensorSettingsSchema,
  checkCollectorHost,
  formatSensorEnvErrors,
  isIpv6,
  parseSensorEnv,
  renderSensorEnv,
  resolveSensorSettings,
  type SensorEnv,
  type SensorSettings,
} from "./settings.ts";

const REQUIRED = { VSENSOR_HOSTNAME: "collector.example.com", VSENSOR_HMAC_KEY: "k3y-0123456789abcdef" };

function parseOk(env: SensorEnv): SensorSettings {
  const result = parseSensorEnv(env);
  if (!result.ok) throw new Error(formatSensorEnvErrors(result.errors));
  return result.settings;
}

describe("parseSensorEnv: values", () => {
  it.each<[string, SensorEnv, Partial<SensorSettings>]>([
    ["only the required variables", {}, {}],
    [
      "the seed's example",
      {
        VSENSOR_HOSTNAME: "192.168.0.1",
        VSENSOR_HMAC_KEY: "js84ld9vm3hff",
        OSSENSOR_DEBUG: "2",
        ANTIGENA_ENABLED: "false",
        NETWORK_DEVICE_ANY: "1",
        NETWORK_DEVICE_EXCLUDELIST: "^veth",
        NETWORK_DEVICE_INCLUDELIST: "^eth",
      },
      {
        collectorHost: "192.168.0.1",
        hmacKey: "js84ld9vm3hff",
        debugLevel: 2,
        antigenaEnabled: false,
        captureNewDevices: true,
        excludeList: ["^veth"],
        includeList: ["^eth"],
      },
    ],
    ["IPv6 collector", { VSENSOR_HOSTNAME: "fd00::1" }, { collectorHost: "fd00::1" }],
    ["port", { VSENSOR_PORT: "8443" }, { collectorPort: 8443 }],
    ["explicit default kept", { VSENSOR_PORT: "443" }, { collectorPort: 443 }],
    [
      "lists split on any whitespace",
      { NETWORK_DEVICE_INCLUDELIST: " ^eth\t^ens[[:digit:]]+ " },
      { includeList: ["^eth", "^ens[[:digit:]]+"] },
    ],
    ["empty list", { NETWORK_DEVICE_EXCLUDELIST: "" }, { excludeList: [] }],
    ["device", { OSSENSOR_NETWORK_DEVICE: "eth0" }, { networkDevice: "eth0" }],
    ["bpf", { BPF: "not port 80" }, { bpf: "not port 80" }],
    [
      "proxy",
      {
        HTTPS_PROXY: "http://proxy.internal:3128",
        NO_PROXY: "10.0.0.0/8, .svc,kubernetes.default.svc:443,*",
      },
      {
        httpsProxy: "http://proxy.internal:3128",
        noProxy: ["10.0.0.0/8", ".svc", "kubernetes.default.svc:443", "*"],
      },
    ],
    [
      "tls",
      { VSENSOR_TLS_CA_FILE: "/etc/tapfleet/ca.pem", VSENSOR_TLS_SERVER_NAME: "ingest.tapfleet.example" },
      { tlsCaFile: "/etc/tapfleet/ca.pem", tlsServerName: "ingest.tapfleet.example" },
    ],
    [
      "tapfleet settings",
      {
        TAPFLEET_CLUSTER_ID: "prod-eu-1",
        TAPFLEET_KEY_ID: "prod-eu-1.k2",
        TAPFLEET_REPORT_INTERVAL: "30",
        TAPFLEET_CHUNK_MAX_BYTES: "65536",
        TAPFLEET_UPLOAD_BYTES_PER_SECOND: "0",
      },
      {
        clusterId: "prod-eu-1",
        keyId: "prod-eu-1.k2",
        reportIntervalSeconds: 30,
        chunkMaxBytes: 65536,
        uploadBytesPerSecond: 0,
      },
    ],
    ["variables that are not ours are ignored", { PATH: "/usr/bin", HOME: "/root" }, {}],
  ])("%s", (_name, env, expected) => {
    const settings = parseOk({ ...REQUIRED, ...env });
    expect(settings).toEqual({
      collectorHost: REQUIRED.VSENSOR_HOSTNAME,
      hmacKey: REQUIRED.VSENSOR_HMAC_KEY,
      ...expected,
    });
  });
});

describe("parseSensorEnv: errors name the variable and the problem", () => {
  it.each<[SensorEnv, string, string]>([
    [
      { VSENSOR_HOSTNAME: "10.0.0.1:8443" },
      "VSENSOR_HOSTNAME",
      'VSENSOR_HOSTNAME: "10.0.0.1:8443" contains a port; put the port in VSENSOR_PORT',
    ],
    [
      { VSENSOR_HOSTNAME: "collector:8443" },
      "VSENSOR_HOSTNAME",
      "contains a port; put the port in VSENSOR_PORT",
    ],
    [{ VSENSOR_HOSTNAME: "[fd00::1]:443" }, "VSENSOR_HOSTNAME", "contains a port"],
    [{ VSENSOR_HOSTNAME: "[fd00::1]" }, "VSENSOR_HOSTNAME", "without brackets"],
    [{ VSENSOR_HOSTNAME: "https://collector" }, "VSENSOR_HOSTNAME", "URL scheme"],
    [{ VSENSOR_HOSTNAME: "collector/ingest" }, "VSENSOR_HOSTNAME", "contains a path"],
    [{ VSENSOR_HOSTNAME: "300.1.1.1" }, "VSENSOR_HOSTNAME", "not a valid IPv4 address"],
    [{ VSENSOR_HOSTNAME: "fd00:::1" }, "VSENSOR_HOSTNAME", "not a valid IPv6 address"],
    [{ VSENSOR_HOSTNAME: "-bad-.example" }, "VSENSOR_HOSTNAME", "not a valid host name"],
    [{ VSENSOR_HOSTNAME: "" }, "VSENSOR_HOSTNAME", "must not be empty"],
    [{ VSENSOR_HOSTNAME: undefined }, "VSENSOR_HOSTNAME", "VSENSOR_HOSTNAME: is required"],
    [{ VSENSOR_HMAC_KEY: undefined }, "VSENSOR_HMAC_KEY", "VSENSOR_HMAC_KEY: is required"],
    [{ VSENSOR_HMAC_KEY: "secret value\n" }, "VSENSOR_HMAC_KEY", "printable ASCII without spaces"],
    [{ VSENSOR_PORT: "0" }, "VSENSOR_PORT", "between 1 and 65535; got 0"],
    [{ VSENSOR_PORT: "70000" }, "VSENSOR_PORT", "between 1 and 65535"],
    [{ VSENSOR_PORT: "0443" }, "VSENSOR_PORT", "leading zeros"],
    [{ VSENSOR_PORT: "https" }, "VSENSOR_PORT", '"https" is not a whole number'],
    [{ OSSENSOR_DEBUG: "6" }, "OSSENSOR_DEBUG", "between 0 and 5; got 6"],
    [{ OSSENSOR_DEBUG: "-1" }, "OSSENSOR_DEBUG", "not a whole number"],
    [{ ANTIGENA_ENABLED: "yes" }, "ANTIGENA_ENABLED", '"yes" is not a boolean; write true or false'],
    [{ ANTIGENA_ENABLED: "True" }, "ANTIGENA_ENABLED", "write true or false"],
    [{ ANTIGENA_TIME_PERIOD: "0" }, "ANTIGENA_TIME_PERIOD", "between 1 and 86400 seconds"],
    [{ NETWORK_DEVICE_ANY: "true" }, "NETWORK_DEVICE_ANY", "must be 0 or 1"],
    [
      { NETWORK_DEVICE_INCLUDELIST: "^eth (veth" },
      "NETWORK_DEVICE_INCLUDELIST",
      'pattern "(veth" is not a valid egrep expression: unmatched (',
    ],
    [
      { NETWORK_DEVICE_EXCLUDELIST: "[[:digits:]]" },
      "NETWORK_DEVICE_EXCLUDELIST",
      "invalid character class name",
    ],
    [{ OSSENSOR_NETWORK_DEVICE: "eth0:1" }, "OSSENSOR_NETWORK_DEVICE", "not a Linux interface name"],
    [
      { OSSENSOR_NETWORK_DEVICE: "averyveryverylongname" },
      "OSSENSOR_NETWORK_DEVICE",
      "not a Linux interface name",
    ],
    [{ OSSENSOR_CONFIG_PATH: "ossensor.cfg" }, "OSSENSOR_CONFIG_PATH", "must be an absolute path"],
    [{ OSSENSOR_CONFIG_PATH: "/etc/../x.cfg" }, "OSSENSOR_CONFIG_PATH", 'must not contain ".."'],
    [{ BPF: "port 80 and" }, "BPF", '"and" needs an expression after it'],
    [{ HTTPS_PROXY: "proxy:3128" }, "HTTPS_PROXY", "has no scheme; write it as http://host:port"],
    [{ HTTPS_PROXY: "socks5://proxy:1080" }, "HTTPS_PROXY", "must use http:// or https://"],
    [{ HTTPS_PROXY: "http://proxy:3128/path" }, "HTTPS_PROXY", "must not have a path"],
    [{ NO_PROXY: "10.0.0.0/33" }, "NO_PROXY", '"10.0.0.0/33" is not a valid CIDR'],
    [{ NO_PROXY: "good.example,bad host" }, "NO_PROXY", '"bad host"'],
    [
      { VSENSOR_TLS_INSECURE: "true", VSENSOR_TLS_CA_FILE: "/ca.pem" },
      "VSENSOR_TLS_INSECURE",
      "cannot be true while VSENSOR_TLS_CA_FILE is set",
    ],
    [{ VSENSOR_TLS_SERVER_NAME: "10.0.0.1" }, "VSENSOR_TLS_SERVER_NAME", "not a DNS name"],
    [{ TAPFLEET_CLUSTER_ID: "Prod_EU" }, "TAPFLEET_CLUSTER_ID", "lowercase"],
    [{ TAPFLEET_KEY_ID: "key id" }, "TAPFLEET_KEY_ID", "letters, digits"],
    [{ TAPFLEET_REPORT_INTERVAL: "0" }, "TAPFLEET_REPORT_INTERVAL", "between 1 and 3600 seconds"],
    [{ TAPFLEET_CHUNK_MAX_BYTES: "99999999" }, "TAPFLEET_CHUNK_MAX_BYTES", "between 1024 and 8388608 bytes"],
  ])("%j → %s", (env, variableName, message) => {
    const result = parseSensorEnv({ ...REQUIRED, ...env });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.variable).toBe(variableName);
    expect(result.errors[0]?.message.startsWith(`${variableName}: `)).toBe(true);
    expect(result.errors[0]?.message).toContain(message);
  });

  it("reports every bad variable at once", () => {
    const result = parseSensorEnv({ VSENSOR_PORT: "x", OSSENSOR_DEBUG: "9" });
    expect(!result.ok && result.errors.map((error) => error.variable)).toEqual([
      "VSENSOR_HOSTNAME",
      "VSENSOR_HMAC_KEY",
      "VSENSOR_PORT",
      "OSSENSOR_DEBUG",
    ]);
  });

  it("never echoes the HMAC key", () => {
    const result = parseSensorEnv({ ...REQUIRED, VSENSOR_HMAC_KEY: "super secret" });
    expect(!result.ok && formatSensorEnvErrors(result.errors)).not.toContain("super secret");
  });
});

describe("parseSensorEnv: warnings", () => {
  it.each<[SensorEnv, string]>([
    [{ VSENSOR_HMAC_KEY: "short" }, "VSENSOR_HMAC_KEY: is shorter than 16"],
    [
      { OSSENSOR_NETWORK_DEVICE: "eth0", NETWORK_DEVICE_INCLUDELIST: "^eth" },
      "NETWORK_DEVICE_EXCLUDELIST are ignored",
    ],
    [{ VSENSOR_TLS_INSECURE: "true" }, "VSENSOR_TLS_INSECURE: the collector's certificate is not verified"],
    [{ VSENSOR_HOST: "x" }, "VSENSOR_HOST: is not a sensor setting"],
    [{ NETWORK_DEVICE_INCLUDELIST: "*eth" }, 'NETWORK_DEVICE_INCLUDELIST: pattern "*eth"'],
    [{ HTTPS_PROXY: "http://user:pw@proxy:3128" }, "HTTPS_PROXY: contains credentials"],
  ])("%j", (env, warning) => {
    const result = parseSensorEnv({ ...REQUIRED, ...env });
    expect(result.ok && result.warnings.join("\n")).toContain(warning);
  });

  it("does not warn about the downward-API variables", () => {
    const result = parseSensorEnv({
      ...REQUIRED,
      TAPFLEET_NODE_NAME: "n1",
      TAPFLEET_POD_NAME: "p",
      TAPFLEET_POD_NAMESPACE: "ns",
    });
    expect(result.ok && result.warnings).toEqual([]);
  });
});

// Canonical envs: what renderSensorEnv writes. Each must render back identically.
const CANONICAL_ENVS: SensorEnv[] = [
  REQUIRED,
  {
    ...REQUIRED,
    VSENSOR_PORT: "443",
    OSSENSOR_DEBUG: "1",
    ANTIGENA_ENABLED: "true",
    ANTIGENA_TIME_PERIOD: "5",
    NETWORK_DEVICE_ANY: "0",
    BPF: "",
    NETWORK_DEVICE_INCLUDELIST: "",
    NETWORK_DEVICE_EXCLUDELIST: "",
  },
  {
    VSENSOR_HOSTNAME: "192.168.0.1",
    VSENSOR_HMAC_KEY: "js84ld9vm3hff",
    OSSENSOR_DEBUG: "2",
    ANTIGENA_ENABLED: "false",
    NETWORK_DEVICE_INCLUDELIST: "^eth",
    NETWORK_DEVICE_EXCLUDELIST: "^veth",
    NETWORK_DEVICE_ANY: "1",
  },
  {
    VSENSOR_HOSTNAME: "fd00::10",
    VSENSOR_HMAC_KEY: "0123456789abcdef0123456789abcdef",
    VSENSOR_PORT: "8443",
    OSSENSOR_NETWORK_DEVICE: "ens5",
    OSSENSOR_CONFIG_PATH: "/etc/darktrace/ossensor.cfg",
    OSSENSOR_DEBUG: "5",
    ANTIGENA_ENABLED: "true",
    ANTIGENA_TIME_PERIOD: "60",
    NETWORK_DEVICE_INCLUDELIST: "^eth ^ens[[:digit:]]+$",
    NETWORK_DEVICE_EXCLUDELIST: "^veth ^cali",
    NETWORK_DEVICE_ANY: "1",
    BPF: "not (port 22 or port 10250)",
    HTTPS_PROXY: "https://proxy.corp:8443",
    NO_PROXY: "10.0.0.0/8,.svc,localhost",
    VSENSOR_TLS_CA_FILE: "/etc/tapfleet/tls/ca.pem",
    VSENSOR_TLS_SERVER_NAME: "ingest.tapfleet.example",
    VSENSOR_TLS_INSECURE: "false",
    TAPFLEET_CLUSTER_ID: "prod-eu-1",
    TAPFLEET_KEY_ID: "prod-eu-1",
    TAPFLEET_REPORT_INTERVAL: "15",
    TAPFLEET_CHUNK_MAX_BYTES: "262144",
    TAPFLEET_UPLOAD_BYTES_PER_SECOND: "1048576",
  },
];

describe("round trip", () => {
  it.each(CANONICAL_ENVS)("canonical env renders identically: %j", (env) => {
    expect(renderSensorEnv(parseOk(env))).toEqual(env);
  });

  it.each<SensorEnv>([
    { ...REQUIRED, NETWORK_DEVICE_INCLUDELIST: "  ^eth \t ^ens ", NO_PROXY: " a.example , ,b.example" },
    ...CANONICAL_ENVS,
  ])("render(parse(env)) parses back to the same settings: %j", (env) => {
    const settings = parseOk(env);
    expect(parseOk(renderSensorEnv(settings))).toEqual(settings);
  });

  it("renders non-canonical lists canonically", () => {
    const env = renderSensorEnv(
      parseOk({
        ...REQUIRED,
        NETWORK_DEVICE_INCLUDELIST: "  ^eth \t ^ens ",
        NO_PROXY: " a.example , ,b.example",
      }),
    );
    expect(env).toMatchObject({ NETWORK_DEVICE_INCLUDELIST: "^eth ^ens", NO_PROXY: "a.example,b.example" });
  });

  it("refuses to render invalid settings", () => {
    expect(() => renderSensorEnv({ collectorHost: "h:1", hmacKey: "k" })).toThrow(/VSENSOR_HOSTNAME/);
  });
});

describe("ZSensorSettingsSchema on objects", () => {
  it("names the variable in type errors and unknown fields", () => {
    const result = ZSensorSettingsSchema.safeParse({
      collectorHost: "h",
      hmacKey: "k",
      collectorPort: "443",
      extra: 1,
    });
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map((issue) => issue.message).join("\n");
    expect(messages).toContain("VSENSOR_PORT: must be a number");
    expect(messages).toContain("unknown setting(s): extra");
  });
});

describe("resolveSensorSettings", () => {
  it("fills in the seed's defaults and ours", () => {
    expect(resolveSensorSettings(parseOk(REQUIRED))).toEqual({
      collectorHost: REQUIRED.VSENSOR_HOSTNAME,
      hmacKey: REQUIRED.VSENSOR_HMAC_KEY,
      collectorPort: 443,
      configPath: DEFAULT_CONFIG_PATH,
      debugLevel: 1,
      antigenaEnabled: true,
      antigenaTimePeriodSeconds: 5,
      includeList: [],
      excludeList: [],
      captureNewDevices: false,
      bpf: "",
      noProxy: [],
      tlsInsecure: false,
      reportIntervalSeconds: 10,
      chunkMaxBytes: 1048576,
      uploadBytesPerSecond: 0,
    });
  });

  it("defaults the key id to the cluster id, and treats an empty device as none", () => {
    const resolved = resolveSensorSettings(
      parseOk({ ...REQUIRED, TAPFLEET_CLUSTER_ID: "c1", OSSENSOR_NETWORK_DEVICE: "" }),
    );
    expect(resolved.keyId).toBe("c1");
    expect(resolved.networkDevice).toBeUndefined();
  });
});

describe("host rules", () => {
  it.each([
    ["10.0.2.15", true],
    ["collector", true],
    ["collector.example.com.", true],
    ["::1", true],
    ["::ffff:10.0.0.1", true],
    ["2001:db8:0:0:0:0:0:1", true],
    ["2001:db8:0:0:0:0:0:1:2", false],
    ["1.2.3", false],
    ["a..b", false],
    ["under_score.example", false],
  ])("%s → %s", (host, ok) => {
    expect(checkCollectorHost(host) === undefined).toBe(ok);
  });

  it("isIpv6 rejects two ::", () => {
    expect(isIpv6("1::2::3")).toBe(false);
  });
});

describe("README", () => {
  it("documents every variable", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const spec of SENSOR_VARIABLES) expect(readme).toContain(`\`${spec.variable}\``);
  });
});

describe("profile settings", () => {
  it("hold every setting but the cluster's own, and an override holds any of them", () => {
    expect(ZProfileSettingsSchema.safeParse({ collectorHost: "collector.example.com" }).success).toBe(true);
    const withKey = ZProfileSettingsSchema.safeParse({
      collectorHost: "c.example.com",
      hmacKey: "k".repeat(32),
    });
    expect(withKey.success).toBe(false);
    expect(withKey.error?.issues[0]?.message).toBe("unknown setting(s): hmacKey");
    expect(ZProfileSettingsSchema.safeParse({}).error?.issues[0]?.message).toBe(
      "VSENSOR_HOSTNAME: is required",
    );
    expect(ZProfileSettingsSchema.safeParse({ collectorHost: 5 }).error?.issues[0]?.message).toBe(
      "VSENSOR_HOSTNAME: must be a string",
    );
    expect(ZProfileOverrideSchema.safeParse({ debugLevel: 3 }).success).toBe(true);
    expect(ZProfileOverrideSchema.safeParse({ debugLevel: 6 }).error?.issues[0]?.message).toBe(
      "OSSENSOR_DEBUG: must be between 0 and 5; got 6",
    );
    const insecureWithCa = ZProfileSettingsSchema.safeParse({
      collectorHost: "c.example.com",
      tlsInsecure: true,
      tlsCaFile: "/etc/ca.pem",
    });
    expect(insecureWithCa.error?.issues[0]?.path).toEqual(["tlsInsecure"]);
  });
});
