import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { CONFIG_HASH_ANNOTATION, computeConfigHash } from "./config-hash.ts";
import {
  renderSensorManifests,
  toYaml,
  type Container,
  type EnvVar,
  type SensorManifestOptions,
} from "./manifests.ts";
import type { SensorSettings } from "./settings.ts";

const KEY = "hmac-key-0123456789abcdef-secret";
const SETTINGS: SensorSettings = {
  collectorHost: "10.20.30.40",
  hmacKey: KEY,
  clusterId: "prod-eu-1",
  debugLevel: 2,
  captureNewDevices: true,
  excludeList: ["^veth"],
};
const IMAGE = "ghcr.io/tapfleet/agent:0.1.0";

function render(overrides: Partial<SensorManifestOptions> = {}) {
  return renderSensorManifests({ settings: SETTINGS, image: IMAGE, ...overrides });
}

function envOf(container: Container | undefined): Record<string, EnvVar> {
  return Object.fromEntries((container?.env ?? []).map((entry) => [entry.name, entry]));
}

describe("renderSensorManifests", () => {
  const rendered = render();
  const { objects } = rendered;
  const pod = objects.daemonSet.spec.template.spec;
  const capture = pod.containers[0];

  it("renders the objects in apply order", () => {
    expect(rendered.list.map((object) => object.kind)).toEqual([
      "Namespace",
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "Secret",
      "DaemonSet",
    ]);
    expect(
      rendered.list
        .filter((object) => object.kind !== "Namespace" && !object.kind.startsWith("Cluster"))
        .every((object) => object.metadata.namespace === "tapfleet-sensor"),
    ).toBe(true);
  });

  it("rolls one node at a time, a new pod counting only after 10 s Ready, its readiness probed with tapfleet-agent probe", () => {
    expect(objects.daemonSet.spec.updateStrategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 1 },
    });
    expect(objects.daemonSet.spec.minReadySeconds).toBe(10);
    expect(capture?.readinessProbe).toEqual({
      exec: { command: ["tapfleet-agent", "probe"] },
      periodSeconds: 5,
      timeoutSeconds: 5,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(toYaml([objects.daemonSet])).toContain("      containers:\n        - name: capture\n");
    expect(toYaml([objects.daemonSet])).toMatch(
      /readinessProbe:\n\s+exec:\n\s+command:\n\s+- tapfleet-agent\n\s+- probe\n/,
    );
  });

  it.each([0, 30])("renders minReadySeconds %i when asked", (seconds) => {
    expect(render({ minReadySeconds: seconds }).objects.daemonSet.spec.minReadySeconds).toBe(seconds);
  });

  it.each([-1, 2.5, Number.NaN])("refuses minReadySeconds %s, naming it", (seconds) => {
    expect(() => render({ minReadySeconds: seconds })).toThrow(
      /^renderSensorManifests: minReadySeconds must be a whole number of seconds, 0 or more; got /,
    );
  });

  it("runs on the host network with ClusterFirstWithHostNet and without hostPID", () => {
    expect(pod).toMatchObject({
      hostNetwork: true,
      dnsPolicy: "ClusterFirstWithHostNet",
      hostPID: false,
      serviceAccountName: "tapfleet-sensor",
      automountServiceAccountToken: true,
    });
    expect(pod.tolerations).toEqual([{ operator: "Exists" }]);
  });

  it("references the HMAC key through secretKeyRef, never as a literal", () => {
    const env = envOf(capture);
    expect(env.VSENSOR_HMAC_KEY).toEqual({
      name: "VSENSOR_HMAC_KEY",
      valueFrom: { secretKeyRef: { name: "tapfleet-sensor-hmac", key: "hmac-key" } },
    });
    expect(JSON.stringify(objects.daemonSet)).not.toContain(KEY);
    expect(objects.secret?.metadata.name).toBe("tapfleet-sensor-hmac");
    expect(Buffer.from(objects.secret?.data["hmac-key"] ?? "", "base64").toString()).toBe(KEY);
  });

  it("passes every other setting as a literal, in table order, and the identity from the downward API", () => {
    expect(capture?.env?.map((entry) => entry.name)).toEqual([
      "VSENSOR_HOSTNAME",
      "VSENSOR_HMAC_KEY",
      "OSSENSOR_DEBUG",
      "NETWORK_DEVICE_EXCLUDELIST",
      "NETWORK_DEVICE_ANY",
      "TAPFLEET_CLUSTER_ID",
      "TAPFLEET_NODE_NAME",
      "TAPFLEET_POD_NAME",
      "TAPFLEET_POD_NAMESPACE",
    ]);
    const env = envOf(capture);
    expect(env.NETWORK_DEVICE_ANY).toEqual({ name: "NETWORK_DEVICE_ANY", value: "1" });
    expect(env.TAPFLEET_NODE_NAME).toEqual({
      name: "TAPFLEET_NODE_NAME",
      valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } },
    });
    expect(env.TAPFLEET_POD_NAME).toEqual({
      name: "TAPFLEET_POD_NAME",
      valueFrom: { fieldRef: { fieldPath: "metadata.name" } },
    });
  });

  it("annotates the DaemonSet and its pod template with the config hash", () => {
    const hash = computeConfigHash(SETTINGS);
    expect(rendered.configHash).toBe(hash);
    expect(objects.daemonSet.metadata.annotations?.[CONFIG_HASH_ANNOTATION]).toBe(hash);
    expect(objects.daemonSet.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION]).toBe(hash);
    const rotated = render({ settings: { ...SETTINGS, hmacKey: "another-key-0123456789abcdef" } });
    expect(rotated.objects.daemonSet.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION]).not.toBe(
      hash,
    );
  });

  it("labels everything, and selects pods by name and instance only", () => {
    for (const object of rendered.list) {
      expect(object.metadata.labels).toMatchObject({
        "app.kubernetes.io/name": "tapfleet-sensor",
        "app.kubernetes.io/managed-by": "tapfleet",
        "tapfleet.io/cluster-id": "prod-eu-1",
      });
    }
    expect(objects.daemonSet.spec.selector.matchLabels).toEqual({
      "app.kubernetes.io/name": "tapfleet-sensor",
      "app.kubernetes.io/instance": "tapfleet-sensor",
    });
    expect(objects.daemonSet.spec.template.metadata.labels).toMatchObject(
      objects.daemonSet.spec.selector.matchLabels,
    );
  });

  it("grants least privilege: get/list/watch only, on pods and nodes only, bound to the sensor's ServiceAccount", () => {
    const verbs = new Set(objects.clusterRole.rules.flatMap((rule) => rule.verbs));
    expect([...verbs].sort()).toEqual(["get", "list", "watch"]);
    expect(objects.clusterRole.rules.flatMap((rule) => rule.resources).sort()).toEqual(["nodes", "pods"]);
    expect(
      objects.clusterRole.rules.every((rule) => rule.apiGroups.length === 1 && rule.apiGroups[0] === ""),
    ).toBe(true);
    expect(JSON.stringify(objects.clusterRole)).not.toContain("*");
    expect(objects.clusterRoleBinding.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: objects.clusterRole.metadata.name,
    });
    expect(objects.clusterRoleBinding.subjects).toEqual([
      { kind: "ServiceAccount", name: "tapfleet-sensor", namespace: "tapfleet-sensor" },
    ]);
    expect(objects.clusterRole.metadata.name).toBe("tapfleet-sensor:tapfleet-sensor");
  });

  it("mounts an emptyDir for the generated config so the root filesystem is read-only", () => {
    expect(capture?.volumeMounts).toEqual([{ name: "config", mountPath: "/etc/tapfleet" }]);
    expect(capture?.securityContext?.readOnlyRootFilesystem).toBe(true);
  });
});

describe("security contexts", () => {
  it("capture is privileged, as in the seed, by default", () => {
    const capture = render().objects.daemonSet.spec.template.spec.containers[0];
    expect(capture?.securityContext).toMatchObject({ privileged: true, runAsUser: 0 });
    expect(capture?.securityContext?.allowPrivilegeEscalation).toBeUndefined();
  });

  it("capture can run with only NET_RAW and NET_ADMIN", () => {
    const capture = render({ captureMode: "capabilities" }).objects.daemonSet.spec.template.spec
      .containers[0];
    expect(capture?.securityContext).toEqual({
      privileged: false,
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"], add: ["NET_RAW", "NET_ADMIN"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("every other container runs as uid/gid 1000, non-root, without privilege escalation", () => {
    const containers = render({
      sidecars: [
        { name: "exporter", image: "exporter:1" },
        { name: "shipper", image: "shipper:1" },
      ],
    }).objects.daemonSet.spec.template.spec.containers;
    expect(containers.map((container) => container.name)).toEqual(["capture", "exporter", "shipper"]);
    for (const container of containers.slice(1)) {
      expect(container.securityContext).toEqual({
        runAsUser: 1000,
        runAsGroup: 1000,
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
    }
  });

  it("refuses a sidecar named capture", () => {
    expect(() => render({ sidecars: [{ name: "capture", image: "x" }] })).toThrow(/capture/);
  });
});

describe("options", () => {
  it("leaves out the Namespace and Secret when managed elsewhere, still referencing the Secret", () => {
    const rendered = render({ createNamespace: false, createSecret: false, secretName: "sealed-hmac" });
    expect(rendered.list.map((object) => object.kind)).toEqual([
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "DaemonSet",
    ]);
    expect(envOf(rendered.objects.daemonSet.spec.template.spec.containers[0]).VSENSOR_HMAC_KEY).toMatchObject(
      { valueFrom: { secretKeyRef: { name: "sealed-hmac", key: "hmac-key" } } },
    );
  });

  it("mounts a CA bundle at VSENSOR_TLS_CA_FILE", () => {
    const rendered = render({
      settings: { ...SETTINGS, tlsCaFile: "/etc/tapfleet/tls/ca.pem" },
      caBundle: "-----BEGIN CERTIFICATE-----\n",
    });
    expect(rendered.objects.caBundle?.data).toEqual({ "ca.pem": "-----BEGIN CERTIFICATE-----\n" });
    expect(rendered.objects.daemonSet.spec.template.spec.containers[0]?.volumeMounts).toContainEqual({
      name: "ca",
      mountPath: "/etc/tapfleet/tls/ca.pem",
      subPath: "ca.pem",
      readOnly: true,
    });
  });

  it.each<[string, Partial<SensorManifestOptions>, string]>([
    [
      "CA file without bundle",
      { settings: { ...SETTINGS, tlsCaFile: "/ca/ca.pem" } },
      "must exist in the image",
    ],
    ["bundle without CA file", { caBundle: "pem" }, "caBundle is ignored"],
    [
      "config in a top-level directory",
      { settings: { ...SETTINGS, configPath: "/etc/ossensor.cfg" } },
      "root filesystem stays writable",
    ],
  ])("warns: %s", (_name, overrides, warning) => {
    expect(render(overrides).warnings.join("\n")).toContain(warning);
  });

  it.each<[string, Partial<SensorManifestOptions>, RegExp]>([
    ["no cluster id", { settings: { collectorHost: "h", hmacKey: KEY } }, /TAPFLEET_CLUSTER_ID/],
    ["invalid settings", { settings: { ...SETTINGS, collectorHost: "h:1" } }, /VSENSOR_HOSTNAME/],
    ["bad namespace", { namespace: "Tap_Fleet" }, /namespace/],
    ["empty image", { image: " " }, /image/],
  ])("throws: %s", (_name, overrides, message) => {
    expect(() => render(overrides)).toThrow(message);
  });
});

describe("NetworkPolicy", () => {
  it("is not rendered unless enabled", () => {
    expect(render().objects.networkPolicy).toBeUndefined();
  });

  it("allows egress to the collector IP and the API server, denies ingress", () => {
    const rendered = render({ networkPolicy: { enabled: true, apiServer: { cidrs: ["172.20.0.1/32"] } } });
    expect(rendered.objects.networkPolicy?.spec).toEqual({
      podSelector: {
        matchLabels: {
          "app.kubernetes.io/name": "tapfleet-sensor",
          "app.kubernetes.io/instance": "tapfleet-sensor",
        },
      },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [
        { to: [{ ipBlock: { cidr: "10.20.30.40/32" } }], ports: [{ protocol: "TCP", port: 443 }] },
        { to: [{ ipBlock: { cidr: "172.20.0.1/32" } }], ports: [{ protocol: "TCP", port: 443 }] },
      ],
    });
    expect(rendered.list.at(-2)?.kind).toBe("NetworkPolicy");
    expect(rendered.warnings.join("\n")).toContain("hostNetwork");
  });

  it("goes through the proxy when one is set", () => {
    const rendered = render({
      settings: { ...SETTINGS, httpsProxy: "http://10.9.9.9:3128" },
      networkPolicy: { enabled: true },
    });
    expect(rendered.objects.networkPolicy?.spec.egress).toEqual([
      { to: [{ ipBlock: { cidr: "10.9.9.9/32" } }], ports: [{ protocol: "TCP", port: 3128 }] },
      { ports: [{ protocol: "TCP", port: 443 }] },
    ]);
    expect(rendered.warnings.join("\n")).toContain("apiServer.cidrs");
  });

  it("also allows the collector directly when NO_PROXY covers it", () => {
    const rendered = render({
      settings: { ...SETTINGS, httpsProxy: "http://10.9.9.9:3128", noProxy: ["10.0.0.0/8"] },
      networkPolicy: { enabled: true },
    });
    expect(rendered.objects.networkPolicy?.spec.egress.map((rule) => rule.to?.[0]?.ipBlock?.cidr)).toEqual([
      "10.9.9.9/32",
      "10.20.30.40/32",
      undefined,
    ]);
  });

  it("adds DNS and uses the given CIDRs for a collector host name", () => {
    const rendered = render({
      settings: { ...SETTINGS, collectorHost: "ingest.tapfleet.example", collectorPort: 8443 },
      networkPolicy: {
        enabled: true,
        collectorCidrs: ["203.0.113.0/24"],
        apiServer: { cidrs: ["10.0.0.1/32"], port: 6443 },
      },
    });
    expect(rendered.objects.networkPolicy?.spec.egress).toEqual([
      { to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ protocol: "TCP", port: 8443 }] },
      { to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ protocol: "TCP", port: 6443 }] },
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
          },
        ],
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
    ]);
  });

  it("warns when a host name has no CIDR", () => {
    const rendered = render({
      settings: { ...SETTINGS, collectorHost: "ingest.example" },
      networkPolicy: { enabled: true },
    });
    expect(rendered.warnings.join("\n")).toContain("without collectorCidrs");
    expect(rendered.objects.networkPolicy?.spec.egress[0]).toEqual({
      ports: [{ protocol: "TCP", port: 443 }],
    });
  });
});

describe("toYaml", () => {
  it("round-trips through the yaml library, one document per object", () => {
    const rendered = render({
      networkPolicy: { enabled: true },
      settings: { ...SETTINGS, antigenaEnabled: false, bpf: "on" },
    });
    const text = toYaml(rendered.list);
    const documents = parseAllDocuments(text);
    expect(Array.isArray(documents) && documents.map((document) => document.errors)).toEqual(
      rendered.list.map(() => []),
    );
    expect(Array.isArray(documents) && documents.map((document) => document.toJS() as unknown)).toEqual(
      rendered.list,
    );
    // kubectl reads YAML 1.1: strings that look like booleans or numbers must stay strings there too.
    const as11 = parseAllDocuments(text, { version: "1.1" });
    expect(Array.isArray(as11) && as11.map((document) => document.toJS() as unknown)).toEqual(rendered.list);
  });

  it("quotes env values that YAML would read as other types", () => {
    const text = toYaml([
      render({ settings: { ...SETTINGS, antigenaEnabled: false, bpf: "on" } }).objects.daemonSet,
    ]);
    expect(text).toContain('value: "1"');
    expect(text).toContain('value: "false"');
    expect(text).toContain('value: "on"');
    expect(text).not.toContain(KEY);
  });
});
