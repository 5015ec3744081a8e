// Defaulting as the API server applies it on every write (SetDefaults_* in
// pkg/apis/*/v1 plus the admission plugins that touch pods). Defaults matter for
// fidelity: `kubectl get -o yaml` shows them, and spec comparisons for
// metadata.generation must see a defaulted spec on both sides, or a `replace`
// with an undefaulted manifest would bump the generation.

import type { KubeObject } from "./types.ts";

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function ensureObj(parent: Json, key: string): Json {
  const existing = obj(parent[key]);
  if (existing) return existing;
  const created: Json = {};
  parent[key] = created;
  return created;
}

function setDefault(target: Json, key: string, value: unknown): void {
  if (target[key] === undefined || target[key] === null) target[key] = value;
}

function imageHasLatestOrNoTag(image: string): boolean {
  if (image.includes("@")) return false;
  const lastSlash = image.lastIndexOf("/");
  const tagSep = image.indexOf(":", lastSlash + 1);
  return tagSep < 0 || image.slice(tagSep + 1) === "latest";
}

function defaultContainer(c: Json): void {
  setDefault(c, "terminationMessagePath", "/dev/termination-log");
  setDefault(c, "terminationMessagePolicy", "File");
  const image = typeof c.image === "string" ? c.image : "";
  setDefault(c, "imagePullPolicy", imageHasLatestOrNoTag(image) ? "Always" : "IfNotPresent");
  setDefault(c, "resources", {});
  if (Array.isArray(c.ports)) for (const p of c.ports) if (obj(p)) setDefault(p as Json, "protocol", "TCP");
  if (Array.isArray(c.env)) {
    for (const e of c.env) {
      const fieldRef = obj(obj(obj(e)?.valueFrom)?.fieldRef);
      if (fieldRef) setDefault(fieldRef, "apiVersion", "v1");
    }
  }
}

/** SetDefaults_PodSpec: what both pods and pod templates get. */
export function defaultPodSpec(spec: Json): void {
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "securityContext", {});
  for (const key of ["containers", "initContainers"]) {
    const list = spec[key];
    if (Array.isArray(list)) for (const c of list) if (obj(c)) defaultContainer(c as Json);
  }
  if (Array.isArray(spec.tolerations)) {
    // An Exists toleration without an operator is invalid; an absent operator means Equal.
    for (const t of spec.tolerations)
      if (obj(t) && (t as Json).operator === undefined && (t as Json).value !== undefined)
        (t as Json).operator = "Equal";
  }
}

/** Pods get a few more fields from SetDefaults_Pod and the admission chain (ServiceAccount, Priority, DefaultTolerationSeconds). */
function defaultPod(pod: KubeObject): void {
  const spec = (pod.spec ??= {});
  defaultPodSpec(spec);
  setDefault(spec, "enableServiceLinks", true);
  setDefault(spec, "serviceAccountName", "default");
  setDefault(spec, "serviceAccount", spec.serviceAccountName);
  setDefault(spec, "priority", 0);
  setDefault(spec, "preemptionPolicy", "PreemptLowerPriority");
  const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Json[]) : [];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    const tolerated = tolerations.some(
      (t) =>
        (t.key === key || t.key === undefined || t.key === "") &&
        (t.effect === "NoExecute" || t.effect === undefined || t.effect === ""),
    );
    if (!tolerated)
      tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
}

function qosClass(spec: Json): string {
  const containers = Array.isArray(spec.containers) ? (spec.containers as Json[]) : [];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const resources = obj(c.resources) ?? {};
    const requests = obj(resources.requests) ?? {};
    const limits = obj(resources.limits) ?? {};
    if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) any = true;
    for (const r of ["cpu", "memory"]) {
      const limit = limits[r];
      const request = requests[r] ?? limit;
      if (limit === undefined || request !== limit) guaranteed = false;
    }
  }
  if (guaranteed) return "Guaranteed";
  return any ? "Burstable" : "BestEffort";
}

function defaultDaemonSet(ds: KubeObject): void {
  const spec = (ds.spec ??= {});
  const strategy = ensureObj(spec, "updateStrategy");
  setDefault(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const ru = ensureObj(strategy, "rollingUpdate");
    setDefault(ru, "maxUnavailable", 1);
    setDefault(ru, "maxSurge", 0);
  }
  setDefault(spec, "revisionHistoryLimit", 10);
  const template = ensureObj(spec, "template");
  // Go serialises the zero metav1.Time of a template as null; kubectl's rollout undo compares those bytes.
  const templateMeta = ensureObj(template, "metadata");
  if (!("creationTimestamp" in templateMeta)) templateMeta.creationTimestamp = null;
  defaultPodSpec(ensureObj(template, "spec"));
}

/** Applies defaults in place on a write to the main resource. */
export function applyDefaults(kind: string, o: KubeObject): void {
  switch (kind) {
    case "Pod":
      defaultPod(o);
      break;
    case "DaemonSet":
      defaultDaemonSet(o);
      break;
    case "Namespace": {
      const spec = (o.spec ??= {});
      setDefault(spec, "finalizers", ["kubernetes"]);
      o.metadata.labels = { ...o.metadata.labels, "kubernetes.io/metadata.name": o.metadata.name ?? "" };
      break;
    }
    case "Service": {
      const spec = (o.spec ??= {});
      setDefault(spec, "type", "ClusterIP");
      setDefault(spec, "sessionAffinity", "None");
      setDefault(spec, "internalTrafficPolicy", "Cluster");
      setDefault(spec, "ipFamilies", ["IPv4"]);
      setDefault(spec, "ipFamilyPolicy", "SingleStack");
      if (spec.type !== "ExternalName") {
        // The allocator picks a random free address of the service CIDR; collisions are unlikely enough here.
        setDefault(
          spec,
          "clusterIP",
          `10.96.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`,
        );
        setDefault(spec, "clusterIPs", [spec.clusterIP]);
      }
      if (Array.isArray(spec.ports)) {
        for (const p of spec.ports) {
          const port = obj(p);
          if (!port) continue;
          setDefault(port, "protocol", "TCP");
          setDefault(port, "targetPort", port.port);
        }
      }
      break;
    }
    case "Secret": {
      setDefault(o, "type", "Opaque");
      // stringData is write-only: merged into data (base64) and never stored.
      const stringData = obj(o.stringData);
      if (stringData) {
        const data = ensureObj(o, "data");
        for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v)).toString("base64");
        delete o.stringData;
      }
      break;
    }
    default:
      break;
  }
}

/** The status a freshly created object starts with (PrepareForCreate of each strategy). */
export function initialStatus(kind: string, o: KubeObject): Record<string, unknown> | undefined {
  switch (kind) {
    case "Pod":
      return { phase: "Pending", qosClass: qosClass(o.spec ?? {}) };
    case "DaemonSet":
      // These four are non-omitempty ints in apps/v1, so they always serialise.
      return { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
    case "Namespace":
      return { phase: "Active" };
    case "Service":
      return { loadBalancer: {} };
    case "Node":
      return o.status; // the kubelet registers its node with a status
    default:
      return o.status;
  }
}
