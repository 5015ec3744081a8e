import { renderSensorManifests } from "@tapfleet/sensor/manifests";
import { describe, expect, it } from "vitest";
import {
  diffSensorTemplate,
  restoreSensorTemplatePatch,
  type DriftChange,
  type ExpectedSensorTemplate,
} from "./diff.ts";

type Json = Record<string, unknown>;
type Container = { name: string; image: string; env: Json[]; securityContext: Json } & Json;

const PROFILE = { collectorHost: "collector.example.com", collectorPort: 8443, includeList: ["^eth"] };
const EXPECTED: ExpectedSensorTemplate = {
  container: "capture",
  settings: PROFILE,
  scope: "all",
  ignore: [],
  foreignVariables: true,
  clusterId: "c1",
  image: "tapfleet/agent:1.0.0",
  captureMode: "capabilities",
};

/** The DaemonSet as Tapfleet renders it for EXPECTED, as plain JSON the test may change. */
function rendered(): Json {
  const { daemonSet } = renderSensorManifests({
    settings: { ...PROFILE, clusterId: "c1", hmacKey: "0123456789abcdef0123456789abcdef" },
    image: "tapfleet/agent:1.0.0",
    captureMode: "capabilities",
  }).objects;
  return JSON.parse(JSON.stringify(daemonSet)) as Json;
}

function capture(daemonSet: Json): Container {
  const spec = daemonSet.spec as { template: { spec: { containers: Container[] } } };
  return spec.template.spec.containers.find((c) => c.name === "capture")!;
}

/** `kubectl set env ds/x NAME=value` (or NAME- to remove it). */
function setEnv(daemonSet: Json, name: string, value: string | null): Json {
  const container = capture(daemonSet);
  const index = container.env.findIndex((entry) => entry.name === name);
  if (value === null) container.env.splice(index, 1);
  else if (index >= 0) container.env[index] = { name, value };
  else container.env.push({ name, value });
  return daemonSet;
}

const cases: Array<{ name: string; change: (ds: Json) => Json; expected: Partial<DriftChange>[] }> = [
  { name: "the template as rendered", change: (ds) => ds, expected: [] },
  {
    name: "a variable set to its default is not drift",
    change: (ds) => setEnv(setEnv(ds, "OSSENSOR_DEBUG", "1"), "NETWORK_DEVICE_EXCLUDELIST", ""),
    expected: [],
  },
  {
    name: "fields the API server defaults are not drift",
    change: (ds) => {
      Object.assign(capture(ds), {
        imagePullPolicy: "IfNotPresent",
        terminationMessagePath: "/dev/termination-log",
        terminationMessagePolicy: "File",
      });
      Object.assign((ds.spec as { template: { spec: Json } }).template.spec, {
        restartPolicy: "Always",
        dnsPolicy: "ClusterFirstWithHostNet",
        schedulerName: "default-scheduler",
        terminationGracePeriodSeconds: 30,
      });
      return ds;
    },
    expected: [],
  },
  {
    name: "kubectl set env OSSENSOR_DEBUG=4",
    change: (ds) => setEnv(ds, "OSSENSOR_DEBUG", "4"),
    expected: [
      {
        kind: "setting",
        name: "debugLevel",
        variable: "OSSENSOR_DEBUG",
        applied: null,
        observed: "4",
        default: "1",
      },
    ],
  },
  {
    name: "kubectl set env VSENSOR_PORT=9443 (a value Tapfleet set, changed)",
    change: (ds) => setEnv(ds, "VSENSOR_PORT", "9443"),
    expected: [{ kind: "setting", name: "collectorPort", applied: "8443", observed: "9443" }],
  },
  {
    name: "kubectl set env NETWORK_DEVICE_INCLUDELIST- (removed: its default differs)",
    change: (ds) => setEnv(ds, "NETWORK_DEVICE_INCLUDELIST", null),
    expected: [{ kind: "setting", name: "includeList", applied: "^eth", observed: null }],
  },
  {
    name: "an invalid value is named with the contract's message",
    change: (ds) => setEnv(setEnv(ds, "VSENSOR_PORT", "eighty"), "OSSENSOR_DEBUG", "3"),
    expected: [
      {
        kind: "setting",
        name: "collectorPort",
        applied: "8443",
        observed: "eighty",
        note: expect.stringMatching(/^VSENSOR_PORT: /) as string,
      },
      { kind: "setting", name: "debugLevel", observed: "3" },
    ],
  },
  {
    name: "the collector host removed",
    change: (ds) => setEnv(ds, "VSENSOR_HOSTNAME", null),
    expected: [{ kind: "setting", name: "collectorHost", applied: "collector.example.com", observed: null }],
  },
  {
    name: "kubectl set env FOO=bar (no sensor setting)",
    change: (ds) => setEnv(ds, "FOO", "bar"),
    expected: [{ kind: "variable", name: "FOO", applied: null, observed: "bar" }],
  },
  {
    name: "another cluster id",
    change: (ds) => setEnv(ds, "TAPFLEET_CLUSTER_ID", "c2"),
    expected: [{ kind: "setting", name: "clusterId", applied: "c1", observed: "c2" }],
  },
  {
    name: "kubectl set image ds/x capture=tapfleet/agent:2",
    change: (ds) => ((capture(ds).image = "tapfleet/agent:2"), ds),
    expected: [{ kind: "image", applied: "tapfleet/agent:1.0.0", observed: "tapfleet/agent:2" }],
  },
  {
    name: "kubectl edit: privileged instead of the capabilities",
    change: (ds) => {
      const context = capture(ds).securityContext;
      context.privileged = true;
      delete context.capabilities;
      return ds;
    },
    expected: [
      { kind: "security", name: "securityContext.privileged", applied: "false", observed: "true" },
      { kind: "security", name: "securityContext.capabilities", observed: null },
    ],
  },
  {
    name: "capabilities in another order are the same",
    change: (ds) => {
      capture(ds).securityContext.capabilities = { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] };
      return ds;
    },
    expected: [],
  },
  {
    name: "the capture container renamed",
    change: (ds) => ((capture(ds).name = "sniffer"), ds),
    expected: [{ kind: "container", name: "capture", observed: null }],
  },
];

describe("diffSensorTemplate", () => {
  it.each(cases)("$name", ({ change, expected }) => {
    const changes = diffSensorTemplate({ expected: EXPECTED, observed: change(rendered()) });
    expect(changes).toEqual(expected.map((item) => expect.objectContaining(item) as unknown));
  });

  it("judges only the variables Tapfleet set on a DaemonSet it found, and none in flux", () => {
    const observed = setEnv(setEnv(rendered(), "OSSENSOR_DEBUG", "5"), "VSENSOR_PORT", "1");
    (
      observed.spec as { template: { spec: { containers: Container[] } } }
    ).template.spec.containers[0]!.image = "other:1";
    const debugOnly: ExpectedSensorTemplate = {
      container: "capture",
      settings: { debugLevel: 3 },
      scope: ["OSSENSOR_DEBUG"],
      ignore: [],
      foreignVariables: false,
      clusterId: null,
      image: null,
      captureMode: null,
    };
    expect(diffSensorTemplate({ expected: debugOnly, observed })).toEqual([
      expect.objectContaining({ name: "debugLevel", applied: "3", observed: "5" }),
    ]);
    expect(diffSensorTemplate({ expected: { ...debugOnly, ignore: ["OSSENSOR_DEBUG"] }, observed })).toEqual(
      [],
    );
  });
});

describe("restoreSensorTemplatePatch", () => {
  it("names exactly what differs, removing what Tapfleet left unset", () => {
    const observed = setEnv(
      setEnv(setEnv(rendered(), "OSSENSOR_DEBUG", "4"), "VSENSOR_PORT", "1"),
      "FOO",
      "x",
    );
    capture(observed).image = "other:2";
    capture(observed).securityContext.privileged = true;
    const changes = diffSensorTemplate({ expected: EXPECTED, observed });
    expect(
      restoreSensorTemplatePatch({ expected: EXPECTED, container: "capture", changes, resourceVersion: "7" }),
    ).toEqual({
      metadata: { resourceVersion: "7" },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: "capture",
                image: "tapfleet/agent:1.0.0",
                securityContext: { privileged: false },
                env: [
                  { name: "VSENSOR_PORT", value: "8443" },
                  { name: "OSSENSOR_DEBUG", $patch: "delete" },
                  { name: "FOO", $patch: "delete" },
                ],
              },
            ],
          },
        },
      },
    });
  });
});
