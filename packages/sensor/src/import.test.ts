import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { importSensorDaemonSet, importSensorObjects } from "./import.ts";
import { renderSensorManifests, toYaml } from "./manifests.ts";
import type { SensorSettings } from "./settings.ts";

const SEED_YAML = readFileSync(new URL("./fixtures/ossensor-daemonset.yaml", import.meta.url), "utf8");

function daemonSet(env: string, extra = ""): string {
  return `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: sensor
  namespace: monitoring
spec:
  selector: { matchLabels: { name: sensor } }
  template:
    metadata: { labels: { name: sensor } }
    spec:
      hostNetwork: true
      containers:
        - name: agent
          image: example/agent:1
          env:
${env
  .trim()
  .split("\n")
  .map((line) => `            ${line}`)
  .join("\n")}
${extra}`;
}

const REQUIRED_ENV = `- { name: VSENSOR_HOSTNAME, value: "collector.example" }
- { name: VSENSOR_HMAC_KEY, value: "0123456789abcdef0123" }`;

describe("the seed's example osSensor DaemonSet", () => {
  const result = importSensorDaemonSet(SEED_YAML);

  it("imports with every setting recognised", () => {
    expect(result.ok).toBe(true);
    expect(result.ok && result.settings).toEqual({
      collectorHost: "192.168.0.1",
      hmacKey: "js84ld9vm3hff",
      debugLevel: 2,
      antigenaEnabled: false,
      captureNewDevices: true,
      excludeList: ["^veth"],
      includeList: ["^eth"],
    });
    expect(result.unknownVariables).toEqual([]);
    expect(result.hmacKeySource).toEqual({ kind: "literal" });
    expect(result.ok && result.source).toEqual({
      name: "ossensor",
      namespace: undefined,
      container: "ossensor",
      image: "darktrace/ossensor:latest",
      hostNetwork: true,
    });
  });

  it("leaves the commented-out BPF unset", () => {
    expect(result.ok && result.settings.bpf).toBeUndefined();
  });

  it("warns about the literal, short HMAC key without echoing it", () => {
    const warnings = result.warnings.join("\n");
    expect(warnings).toContain("VSENSOR_HMAC_KEY: is a literal in the DaemonSet");
    expect(warnings).toContain("shorter than 16");
    expect(warnings).not.toContain("js84ld9vm3hff");
    expect(result.env).not.toHaveProperty("VSENSOR_HMAC_KEY");
  });
});

describe("round trip through our own manifests", () => {
  const settings: SensorSettings = {
    collectorHost: "ingest.tapfleet.example",
    hmacKey: "0123456789abcdef0123456789abcdef",
    clusterId: "c1",
    collectorPort: 8443,
    includeList: ["^eth", "^ens"],
    bpf: "not port 22",
    httpsProxy: "http://10.0.0.9:3128",
    noProxy: ["10.0.0.0/8"],
  };

  it("imports what renderSensorManifests wrote, resolving the key from the Secret in the YAML", () => {
    const yaml = toYaml(renderSensorManifests({ settings, image: "tapfleet/agent:1" }).list);
    const result = importSensorDaemonSet(yaml);
    expect(result.ok && result.settings).toEqual(settings);
    expect(result.hmacKeySource).toEqual({
      kind: "secretKeyRef",
      name: "tapfleet-sensor-hmac",
      key: "hmac-key",
    });
    expect(result.unknownVariables).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  it("needs a resolver when the Secret is not in the YAML", () => {
    const yaml = toYaml(
      renderSensorManifests({ settings, image: "tapfleet/agent:1", createSecret: false }).list,
    );
    const result = importSensorDaemonSet(yaml);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([
      {
        variable: "VSENSOR_HMAC_KEY",
        message:
          'VSENSOR_HMAC_KEY: comes from Secret "tapfleet-sensor-hmac" key "hmac-key", which is neither in the YAML nor found by resolveSecret',
      },
    ]);
    const requested: unknown[] = [];
    const resolved = importSensorDaemonSet(yaml, {
      resolveSecret: (reference) => (requested.push(reference), settings.hmacKey),
    });
    expect(resolved.ok && resolved.settings).toEqual(settings);
    expect(requested).toEqual([
      { namespace: "tapfleet-sensor", name: "tapfleet-sensor-hmac", key: "hmac-key" },
    ]);
  });

  it("imports the DaemonSet as an object read from the API, as it does from YAML", () => {
    const { daemonSet } = renderSensorManifests({ settings, image: "tapfleet/agent:1" }).objects;
    const result = importSensorObjects([daemonSet], { resolveSecret: () => settings.hmacKey });
    expect(result.ok && result.settings).toEqual(settings);
    expect(result.ok && result.source).toMatchObject({ container: "capture", image: "tapfleet/agent:1" });
    expect(importSensorObjects([{ kind: "ConfigMap" }]).ok).toBe(false);
  });
});

describe("importSensorDaemonSet", () => {
  it("lists variables that are not sensor settings", () => {
    const result = importSensorDaemonSet(
      daemonSet(
        `${REQUIRED_ENV}\n- { name: SOVEREN_TOKEN, value: "x" }\n- { name: https_proxy, value: "http://p:1" }`,
      ),
    );
    expect(result.unknownVariables).toEqual(["SOVEREN_TOKEN", "https_proxy"]);
    expect(result.warnings).toContain("https_proxy: is not a sensor setting and is not carried over");
  });

  it("reports invalid settings naming the variable", () => {
    const result = importSensorDaemonSet(
      daemonSet(
        `- { name: VSENSOR_HOSTNAME, value: "10.0.0.1:8443" }\n- { name: VSENSOR_HMAC_KEY, value: "k" }\n- { name: OSSENSOR_DEBUG, value: "7" }`,
      ),
    );
    expect(!result.ok && result.errors.map((error) => error.message)).toEqual([
      'VSENSOR_HOSTNAME: "10.0.0.1:8443" contains a port; put the port in VSENSOR_PORT',
      "OSSENSOR_DEBUG: must be between 0 and 5; got 7",
    ]);
    expect(result.source).toMatchObject({ name: "sensor", namespace: "monitoring", container: "agent" });
  });

  it("takes the last of duplicate variables, as the kubelet does", () => {
    const result = importSensorDaemonSet(
      daemonSet(
        `${REQUIRED_ENV}\n- { name: OSSENSOR_DEBUG, value: "9" }\n- { name: OSSENSOR_DEBUG, value: "3" }`,
      ),
    );
    expect(result.ok && result.settings.debugLevel).toBe(3);
    expect(result.warnings).toContain(
      "OSSENSOR_DEBUG: is listed more than once; the last entry wins, as in Kubernetes",
    );
  });

  it("accepts unquoted numbers with a warning, and a missing value as empty", () => {
    const result = importSensorDaemonSet(
      daemonSet(`${REQUIRED_ENV}\n- { name: VSENSOR_PORT, value: 8443 }\n- { name: BPF }`),
    );
    expect(result.ok && result.settings).toMatchObject({ collectorPort: 8443, bpf: "" });
    expect(result.warnings.join("\n")).toContain("VSENSOR_PORT: the value 8443 is not a string");
  });

  it("resolves configMapKeyRef from the YAML and skips absent optional references", () => {
    const yaml = `${daemonSet(`${REQUIRED_ENV}
- name: BPF
  valueFrom: { configMapKeyRef: { name: sensor-config, key: bpf } }
- name: HTTPS_PROXY
  valueFrom: { secretKeyRef: { name: proxy, key: url, optional: true } }`)}---
apiVersion: v1
kind: ConfigMap
metadata: { name: sensor-config, namespace: monitoring }
data: { bpf: "not port 80" }
`;
    const result = importSensorDaemonSet(yaml);
    expect(result.ok && result.settings.bpf).toBe("not port 80");
    expect(result.ok && result.settings.httpsProxy).toBeUndefined();
    expect(result.env.BPF).toBe("not port 80");
  });

  it("picks the container that configures the sensor and warns about hostNetwork and envFrom", () => {
    const yaml = `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: interceptor }
spec:
  template:
    spec:
      containers:
        - name: rpcapd
          image: rpcapd:1
        - name: interceptor
          image: interceptor:1
          envFrom: [{ configMapRef: { name: extra } }]
          env:
            - { name: VSENSOR_HOSTNAME, value: "10.0.0.1" }
            - { name: VSENSOR_HMAC_KEY, valueFrom: { secretKeyRef: { name: key, key: hmac } } }
`;
    const result = importSensorDaemonSet(yaml, { resolveSecret: () => "0123456789abcdef0123" });
    expect(result.ok && result.source).toMatchObject({ container: "interceptor", hostNetwork: false });
    expect(result.warnings.join("\n")).toContain("hostNetwork: is not true");
    expect(result.warnings.join("\n")).toContain("envFrom");
  });

  it.each([
    ["not YAML", "a: [1", "(yaml): document 1"],
    ["no DaemonSet", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n", "no DaemonSet found"],
    [
      "no containers",
      "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: { name: x }\nspec: {}\n",
      "has no containers",
    ],
  ])("fails on %s", (_name, yaml, message) => {
    const result = importSensorDaemonSet(yaml);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors[0]?.message).toContain(message);
  });

  it("reads a List of objects", () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n${SEED_YAML.replace(/^#.*\n/gm, "")
      .split("\n")
      .map((line, index) => (index === 0 ? `  - ${line}` : `    ${line}`))
      .join("\n")}`;
    expect(importSensorDaemonSet(list).ok).toBe(true);
  });
});
