import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../types.ts";
import { resolveContainerEnv, type EnvSourceKind, type ResolvedEnv } from "./environment.ts";

type Json = Record<string, unknown>;

const pod: KubeObject = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "agent-x7k2p",
    namespace: "sensors",
    uid: "0b6f3c1e-uid",
    labels: { app: "agent", "tapfleet.io/cluster": "lab" },
    annotations: { "tapfleet.io/revision": "7" },
  },
  spec: { nodeName: "node-2", serviceAccountName: "tapfleet-agent", containers: [] },
};

const base64 = (value: string): string => Buffer.from(value).toString("base64");

const sources: Record<EnvSourceKind, Record<string, KubeObject>> = {
  secrets: {
    creds: {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "creds", namespace: "sensors" },
      data: { token: base64("s3cret"), user: base64("agent") },
    },
  },
  configmaps: {
    settings: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: "sensors" },
      data: { COLLECTOR: "10.0.0.9", PORT: "8443" },
      binaryData: { blob: base64("raw bytes") },
    },
  },
};

const cases: Array<{ name: string; container: Json; expected: ResolvedEnv }> = [
  {
    name: "plain values, in order",
    container: { env: [{ name: "A", value: "1" }, { name: "B" }] },
    expected: { env: { A: "1", B: "" } },
  },
  {
    name: "$(VAR) expands earlier variables only; unknown stays; $$ escapes",
    container: {
      env: [
        { name: "HOST", value: "collector" },
        { name: "URL", value: "https://$(HOST):$(PORT)/x" },
        { name: "PORT", value: "443" },
        { name: "COST", value: "$$(HOST) $$5" },
      ],
    },
    expected: {
      env: { HOST: "collector", URL: "https://collector:$(PORT)/x", PORT: "443", COST: "$(HOST) $5" },
    },
  },
  {
    name: "fieldRef reads the downward API",
    container: {
      env: [
        ["NAME", "metadata.name"],
        ["NS", "metadata.namespace"],
        ["UID", "metadata.uid"],
        ["NODE", "spec.nodeName"],
        ["SA", "spec.serviceAccountName"],
        ["HOST_IP", "status.hostIP"],
        ["POD_IP", "status.podIP"],
        ["CLUSTER", "metadata.labels['tapfleet.io/cluster']"],
        ["REVISION", "metadata.annotations['tapfleet.io/revision']"],
        ["MISSING_LABEL", "metadata.labels['nope']"],
        ["UNKNOWN", "status.phase"],
      ].map(([name, fieldPath]) => ({ name, valueFrom: { fieldRef: { fieldPath } } })),
    },
    expected: {
      env: {
        NAME: "agent-x7k2p",
        NS: "sensors",
        UID: "0b6f3c1e-uid",
        NODE: "node-2",
        SA: "tapfleet-agent",
        HOST_IP: "192.168.0.12",
        POD_IP: "10.244.0.7",
        CLUSTER: "lab",
        REVISION: "7",
        MISSING_LABEL: "",
        UNKNOWN: "",
      },
    },
  },
  {
    name: "secretKeyRef decodes base64; configMapKeyRef reads data, then binaryData",
    container: {
      env: [
        { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } },
        { name: "COLLECTOR", valueFrom: { configMapKeyRef: { name: "settings", key: "COLLECTOR" } } },
        { name: "BLOB", valueFrom: { configMapKeyRef: { name: "settings", key: "blob" } } },
      ],
    },
    expected: { env: { TOKEN: "s3cret", COLLECTOR: "10.0.0.9", BLOB: "raw bytes" } },
  },
  {
    name: "a missing secret is a config error",
    container: { env: [{ name: "T", valueFrom: { secretKeyRef: { name: "other", key: "token" } } }] },
    expected: { error: 'secret "other" not found' },
  },
  {
    name: "a missing config map is a config error",
    container: { env: [{ name: "C", valueFrom: { configMapKeyRef: { name: "other", key: "x" } } }] },
    expected: { error: 'configmap "other" not found' },
  },
  {
    name: "a missing key is a config error naming the object",
    container: { env: [{ name: "T", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } }] },
    expected: { error: "couldn't find key password in Secret sensors/creds" },
  },
  {
    name: "optional references that resolve to nothing leave the variable out",
    container: {
      env: [
        { name: "A", value: "1" },
        { name: "T", valueFrom: { secretKeyRef: { name: "other", key: "token", optional: true } } },
        { name: "K", valueFrom: { configMapKeyRef: { name: "settings", key: "nope", optional: true } } },
      ],
    },
    expected: { env: { A: "1" } },
  },
  {
    name: "envFrom takes every key, with its prefix, secrets decoded; env wins over it",
    container: {
      envFrom: [{ configMapRef: { name: "settings" } }, { prefix: "DB_", secretRef: { name: "creds" } }],
      env: [{ name: "PORT", value: "9000" }],
    },
    expected: {
      env: { COLLECTOR: "10.0.0.9", PORT: "9000", DB_token: "s3cret", DB_user: "agent" },
    },
  },
  {
    name: "envFrom of a missing source is a config error unless optional",
    container: {
      envFrom: [{ configMapRef: { name: "gone", optional: true } }, { secretRef: { name: "gone" } }],
    },
    expected: { error: 'secret "gone" not found' },
  },
];

describe("kubelet: container environment", () => {
  it.each(cases)("$name", ({ container, expected }) => {
    const result = resolveContainerEnv({
      pod,
      container,
      findSource: (kind, name) => sources[kind][name],
      hostIP: "192.168.0.12",
      podIP: "10.244.0.7",
    });
    expect(result).toEqual(expected);
  });
});
