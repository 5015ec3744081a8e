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
      { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      { name: "HTTP_TIMEOUT_EXTRA", value: "5" },
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
