import { trimSensorDaemonSet } from "@tapfleet/kube";
import { describe, expect, it } from "vitest";
import {
  matchesPodTemplateState,
  matchesWatchedTemplateState,
  mergeRolloutEnv,
  readPodTemplateState,
  rollingUpdateStrategy,
  writePodTemplateState,
} from "./template.ts";

const daemonSet = () => ({
  metadata: { name: "sensor", annotations: { "tapfleet.io/config-hash": "old", other: "kept" } },
  spec: {
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    template: {
      metadata: {
        annotations: { "tapfleet.io/config-hash": "old", "kubectl.kubernetes.io/restartedAt": "t" },
      },
      spec: {
        containers: [
          {
            name: "capture",
            image: "tapfleet/agent:1",
            env: [
              { name: "VSENSOR_HOSTNAME", value: "old.example.com" },
              { name: "VSENSOR_HMAC_KEY", valueFrom: { secretKeyRef: { name: "custom-secret", key: "k" } } },
              { name: "OSSENSOR_DEBUG", value: "3" },
              { name: "HTTP_TIMEOUT_EXTRA", value: "5" },
            ],
          },
          { name: "sidecar", image: "busybox", env: [] },
        ],
      },
    },
  },
});

describe("pod template state", () => {
  it("reads, writes and matches the capture container, annotations and strategy; the input stays as it was", () => {
    const original = daemonSet();
    const before = readPodTemplateState(original, "capture")!;
    const target = {
      ...before,
      image: "tapfleet/agent:2",
      env: [{ name: "VSENSOR_HOSTNAME", value: "new.example.com" }],
      annotations: {
        ...before.annotations,
        "tapfleet.io/config-hash": "new",
        "tapfleet.io/config-revision": "p@2",
      },
      updateStrategy: rollingUpdateStrategy({ maxUnavailable: "25%", maxSurge: 0 }),
    };
    const written = writePodTemplateState(original, target);
    expect(matchesPodTemplateState(written, target)).toBe(true);
    expect(matchesPodTemplateState(written, before)).toBe(false);
    expect(matchesPodTemplateState(original, before)).toBe(true);
    expect(written.metadata.annotations).toEqual({ "tapfleet.io/config-hash": "new", other: "kept" });
    expect(written.spec.template.spec.containers[1]).toEqual(original.spec.template.spec.containers[1]);
    expect(original.spec.template.spec.containers[0]!.image).toBe("tapfleet/agent:1");
    // Writing the state from before back gives the template from before.
    expect(writePodTemplateState(written, before).spec).toEqual(original.spec);
    // Another's annotation does not make it a different template; another env does.
    const annotated = structuredClone(written);
    annotated.spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"] = "later";
    expect(matchesPodTemplateState(annotated, target)).toBe(true);
    const edited = structuredClone(written);
    edited.spec.template.spec.containers[0]!.env.push({ name: "X", value: "1" });
    expect(matchesPodTemplateState(edited, target)).toBe(false);
  });

  it("is null for a container the DaemonSet does not have", () => {
    expect(readPodTemplateState(daemonSet(), "nope")).toBeNull();
  });
});

describe("kubectl's last-applied configuration with a literal key", () => {
  const applied = (key: unknown) =>
    JSON.stringify({
      kind: "DaemonSet",
      spec: {
        template: {
          spec: {
            containers: [{ name: "capture", env: [{ name: "VSENSOR_HMAC_KEY", ...(key as object) }] }],
          },
        },
      },
    });
  const withLastApplied = (key: unknown) => {
    const raw = daemonSet();
    (raw.metadata.annotations as Record<string, string>)["kubectl.kubernetes.io/last-applied-configuration"] =
      applied(key);
    return raw;
  };

  it("is dropped when the template written reads the key from a Secret, and kept otherwise", () => {
    const fromSecret = readPodTemplateState(daemonSet(), "capture")!;
    const literal = {
      ...fromSecret,
      env: [{ name: "VSENSOR_HMAC_KEY", value: "literal-key" }],
    };
    const annotationsAfter = (raw: ReturnType<typeof daemonSet>, state: typeof fromSecret) =>
      Object.keys(writePodTemplateState(raw, state).metadata.annotations);
    expect(annotationsAfter(withLastApplied({ value: "literal-key" }), fromSecret)).not.toContain(
      "kubectl.kubernetes.io/last-applied-configuration",
    );
    // A rollback to the literal, or a record that holds a reference only, keeps kubectl's record.
    expect(annotationsAfter(withLastApplied({ value: "literal-key" }), literal)).toContain(
      "kubectl.kubernetes.io/last-applied-configuration",
    );
    expect(
      annotationsAfter(withLastApplied({ valueFrom: { secretKeyRef: { name: "s", key: "k" } } }), fromSecret),
    ).toContain("kubectl.kubernetes.io/last-applied-configuration");
  });
});

describe("mergeRolloutEnv", () => {
  it("takes the rendered values, keeps the DaemonSet's own references and non-contract variables, drops unset contract variables", () => {
    const current = readPodTemplateState(daemonSet(), "capture")!.env;
    const merged = mergeRolloutEnv({
      current,
      rendered: [
        { name: "VSENSOR_HOSTNAME", value: "new.example.com" },
        {
          name: "VSENSOR_HMAC_KEY",
          valueFrom: { secretKeyRef: { name: "tapfleet-sensor-hmac", key: "hmac-key" } },
        },
        { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      ],
    });
    expect(merged).toEqual([
      { name: "VSENSOR_HOSTNAME", value: "new.example.com" },
      { name: "VSENSOR_HMAC_KEY", valueFrom: { secretKeyRef: { name: "custom-secret", key: "k" } } },
      { name: "NODE_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } },
      { name: "HTTP_TIMEOUT_EXTRA", value: "5" },
    ]);
  });
});

describe("mergeRolloutEnv on an adopted DaemonSet with a literal key and no downward API variables", () => {
  it("reads the key from the rendered Secret instead of the literal, and writes the references as the API stores them", () => {
    const merged = mergeRolloutEnv({
      current: [
        { name: "VSENSOR_HOSTNAME", value: "old.example.com" },
        { name: "VSENSOR_HMAC_KEY", value: "literal-key" },
      ],
      rendered: [
        { name: "VSENSOR_HOSTNAME", value: "new.example.com" },
        { name: "VSENSOR_HMAC_KEY", valueFrom: { secretKeyRef: { name: "ossensor-hmac", key: "hmac-key" } } },
        { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      ],
    });
    expect(merged).toEqual([
      { name: "VSENSOR_HOSTNAME", value: "new.example.com" },
      { name: "VSENSOR_HMAC_KEY", valueFrom: { secretKeyRef: { name: "ossensor-hmac", key: "hmac-key" } } },
      // Kubernetes defaults a fieldRef's apiVersion: written without it, the template read back would differ.
      { name: "NODE_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } },
    ]);
  });
});

describe("the pod template state as the leader's watch keeps it", () => {
  const watched = (raw: unknown) => {
    const trimmed = trimSensorDaemonSet({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      ...(raw as object),
      metadata: { ...(raw as { metadata: object }).metadata, namespace: "ns", uid: "u1" },
    });
    if (!trimmed) throw new Error("not a sensor DaemonSet");
    return trimmed;
  };

  it("matches the state read from the object, and not one with another value, image, reference or Tapfleet annotation", () => {
    const raw = daemonSet();
    const state = readPodTemplateState(raw, "capture")!;
    expect(matchesWatchedTemplateState(watched(raw), state)).toBe(true);
    const changed = (edit: (s: typeof state) => void) => {
      const copy = structuredClone(state);
      edit(copy);
      return matchesWatchedTemplateState(watched(raw), copy);
    };
    expect(changed((s) => (s.env[2]!.value = "4"))).toBe(false);
    expect(changed((s) => (s.image = "tapfleet/agent:2"))).toBe(false);
    expect(changed((s) => (s.env[1] = { name: "VSENSOR_HMAC_KEY", value: "inline" }))).toBe(false);
    expect(changed((s) => s.env.pop())).toBe(false);
    expect(changed((s) => (s.annotations["tapfleet.io/config-hash"] = "new"))).toBe(false);
    // Annotations of others and the update strategy are not what the watch tells apart.
    expect(changed((s) => (s.annotations["kubectl.kubernetes.io/restartedAt"] = "later"))).toBe(true);
    expect(changed((s) => (s.updateStrategy = null))).toBe(true);
  });
});
