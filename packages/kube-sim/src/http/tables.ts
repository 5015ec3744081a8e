// Server-side printing: `meta.k8s.io/v1` Table responses with the columns the
// real API server defines (pkg/printers/internalversion), so `kubectl get`
// prints real columns instead of NAME/AGE only. Priority-1 columns are the
// ones kubectl adds for `-o wide`.

import type { KubeObject } from "../types.ts";

interface ColumnDefinition {
  name: string;
  type: "string" | "integer" | "date";
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number;

interface Printer {
  columns: ColumnDefinition[];
  cells(object: KubeObject, now: number): Cell[];
}

const column = (
  name: string,
  type: ColumnDefinition["type"],
  description: string,
  priority = 0,
  format = "",
): ColumnDefinition => ({
  name,
  type,
  format,
  description,
  priority,
});
const nameColumn = column("Name", "string", "Name must be unique within a namespace.", 0, "name");
const ageColumn = column(
  "Age",
  "string",
  "CreationTimestamp is a timestamp representing the server time when this object was created.",
);

type Dict = Record<string, unknown>;
const asDict = (value: unknown): Dict =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Dict) : {};
const asList = (value: unknown): Dict[] => (Array.isArray(value) ? value.map(asDict) : []);
const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const num = (value: unknown): number => (typeof value === "number" ? value : 0);

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24);
    return `${Math.floor(days / 365)}y${days % 365}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function age(object: KubeObject, now: number): string {
  const created = object.metadata.creationTimestamp;
  if (!created) return "<unknown>";
  return humanDuration(now - Date.parse(created));
}

// ---- pods ----------------------------------------------------------------

function podStatusReason(pod: KubeObject): string {
  const status = asDict(pod.status);
  let reason = str(status.reason) ?? str(status.phase) ?? "Unknown";

  let initializing = false;
  const initStatuses = asList(status.initContainerStatuses);
  initStatuses.forEach((container, i) => {
    if (initializing) return;
    const state = asDict(container.state);
    const terminated = asDict(state.terminated);
    const waiting = asDict(state.waiting);
    if (state.terminated && num(terminated.exitCode) === 0) return;
    initializing = true;
    if (state.terminated) {
      reason = str(terminated.reason)
        ? `Init:${str(terminated.reason)}`
        : `Init:ExitCode:${num(terminated.exitCode)}`;
    } else if (state.waiting && str(waiting.reason) && str(waiting.reason) !== "PodInitializing") {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${asList(asDict(pod.spec).initContainers).length}`;
    }
  });

  if (!initializing) {
    let hasRunning = false;
    for (const container of [...asList(status.containerStatuses)].reverse()) {
      const state = asDict(container.state);
      const waiting = asDict(state.waiting);
      const terminated = asDict(state.terminated);
      if (str(waiting.reason)) reason = str(waiting.reason)!;
      else if (state.terminated && str(terminated.reason)) reason = str(terminated.reason)!;
      else if (state.terminated) reason = `ExitCode:${num(terminated.exitCode)}`;
      else if (state.running && container.ready === true) hasRunning = true;
    }
    if (reason === "Completed" && hasRunning) {
      const ready = asList(status.conditions).some((c) => c.type === "Ready" && c.status === "True");
      reason = ready ? "Running" : "NotReady";
    }
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === "NodeLost" ? "Unknown" : "Terminating";
  return reason;
}

function podRestarts(pod: KubeObject, now: number): string {
  let restarts = 0;
  let lastRestart: number | undefined;
  for (const container of asList(asDict(pod.status).containerStatuses)) {
    restarts += num(container.restartCount);
    const finishedAt = str(asDict(asDict(container.lastState).terminated).finishedAt);
    if (finishedAt) lastRestart = Math.max(lastRestart ?? 0, Date.parse(finishedAt));
  }
  return restarts > 0 && lastRestart !== undefined
    ? `${restarts} (${humanDuration(now - lastRestart)} ago)`
    : String(restarts);
}

const podPrinter: Printer = {
  columns: [
    nameColumn,
    column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    column("Status", "string", "The aggregate status of the containers in this pod."),
    column(
      "Restarts",
      "string",
      "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    ageColumn,
    column(
      "IP",
      "string",
      "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
      1,
    ),
    column("Node", "string", "NodeName is a request to schedule this pod onto a specific node.", 1),
    column(
      "Nominated Node",
      "string",
      "nominatedNodeName is set when this pod preempts other pods on the node.",
      1,
    ),
    column(
      "Readiness Gates",
      "string",
      "If specified, all readiness gates will be evaluated for pod readiness.",
      1,
    ),
  ],
  cells(pod, now) {
    const spec = asDict(pod.spec);
    const status = asDict(pod.status);
    const statuses = asList(status.containerStatuses);
    const ready = statuses.filter((c) => c.ready === true).length;
    const gates = asList(spec.readinessGates);
    const conditions = asList(status.conditions);
    const gatesCell =
      gates.length === 0
        ? "<none>"
        : `${gates.filter((g) => conditions.some((c) => c.type === g.conditionType && c.status === "True")).length}/${gates.length}`;
    return [
      pod.metadata.name ?? "",
      `${ready}/${asList(spec.containers).length}`,
      podStatusReason(pod),
      podRestarts(pod, now),
      age(pod, now),
      str(status.podIP) ?? "<none>",
      str(spec.nodeName) ?? "<none>",
      str(status.nominatedNodeName) ?? "<none>",
      gatesCell,
    ];
  },
};

// ---- nodes -----------------------------------------------------------------

const nodePrinter: Printer = {
  columns: [
    nameColumn,
    column("Status", "string", "The status of the node"),
    column("Roles", "string", "The roles of the node"),
    ageColumn,
    column("Version", "string", "Kubelet Version reported by the node."),
    column("Internal-IP", "string", "List of internal IPs in the node.", 1),
    column("External-IP", "string", "List of external IPs in the node.", 1),
    column(
      "OS-Image",
      "string",
      "OS image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
      1,
    ),
    column(
      "Kernel-Version",
      "string",
      "Kernel version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      1,
    ),
    column(
      "Container-Runtime",
      "string",
      "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
      1,
    ),
  ],
  cells(node, now) {
    const status = asDict(node.status);
    const ready = asList(status.conditions).find((c) => c.type === "Ready");
    const states = [ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady" : "Unknown"];
    if (asDict(node.spec).unschedulable === true) states.push("SchedulingDisabled");
    const roles = new Set<string>();
    for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
      if (key.startsWith("node-role.kubernetes.io/")) roles.add(key.slice("node-role.kubernetes.io/".length));
      else if (key === "kubernetes.io/role" && value) roles.add(value);
    }
    const addresses = asList(status.addresses);
    const address = (type: string): string =>
      addresses
        .filter((a) => a.type === type)
        .map((a) => str(a.address) ?? "")
        .join(",") || "<none>";
    const info = asDict(status.nodeInfo);
    return [
      node.metadata.name ?? "",
      states.join(","),
      roles.size > 0 ? [...roles].sort().join(",") : "<none>",
      age(node, now),
      str(info.kubeletVersion) ?? "",
      address("InternalIP"),
      address("ExternalIP"),
      str(info.osImage) ?? "<unknown>",
      str(info.kernelVersion) ?? "<unknown>",
      str(info.containerRuntimeVersion) ?? "<unknown>",
    ];
  },
};

// ---- daemonsets ----------------------------------------------------------------

function labelsString(map: unknown): string {
  const entries = Object.entries(asDict(map));
  return entries.length === 0 ? "<none>" : entries.map(([k, v]) => `${k}=${String(v)}`).join(",");
}

function selectorString(selector: unknown): string {
  const dict = asDict(selector);
  const parts = Object.entries(asDict(dict.matchLabels)).map(([k, v]) => `${k}=${String(v)}`);
  for (const expr of asList(dict.matchExpressions)) {
    const values = Array.isArray(expr.values) ? (expr.values as unknown[]).map(String).join(",") : "";
    const key = str(expr.key) ?? "";
    switch (expr.operator) {
      case "In":
        parts.push(`${key} in (${values})`);
        break;
      case "NotIn":
        parts.push(`${key} notin (${values})`);
        break;
      case "Exists":
        parts.push(key);
        break;
      case "DoesNotExist":
        parts.push(`!${key}`);
        break;
    }
  }
  return parts.length === 0 ? "<none>" : parts.join(",");
}

const daemonSetPrinter: Printer = {
  columns: [
    nameColumn,
    column("Desired", "integer", "The desired number of nodes that should be running the daemon pod."),
    column(
      "Current",
      "integer",
      "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
    ),
    column(
      "Ready",
      "integer",
      "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.",
    ),
    column("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    column(
      "Available",
      "integer",
      "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    column(
      "Node Selector",
      "string",
      "NodeSelector is a selector which must be true for the pod to fit on a node.",
    ),
    ageColumn,
    column("Containers", "string", "Names of each container in the template.", 1),
    column("Images", "string", "Images referenced by each container in the template.", 1),
    column("Selector", "string", "A label query over pods that are managed by the daemon set.", 1),
  ],
  cells(ds, now) {
    const status = asDict(ds.status);
    const spec = asDict(ds.spec);
    const podSpec = asDict(asDict(spec.template).spec);
    const containers = asList(podSpec.containers);
    return [
      ds.metadata.name ?? "",
      num(status.desiredNumberScheduled),
      num(status.currentNumberScheduled),
      num(status.numberReady),
      num(status.updatedNumberScheduled),
      num(status.numberAvailable),
      labelsString(podSpec.nodeSelector),
      age(ds, now),
      containers.map((c) => str(c.name) ?? "").join(","),
      containers.map((c) => str(c.image) ?? "").join(","),
      selectorString(spec.selector),
    ];
  },
};

const namespacePrinter: Printer = {
  columns: [nameColumn, column("Status", "string", "The status of the namespace"), ageColumn],
  cells: (ns, now) => [ns.metadata.name ?? "", str(asDict(ns.status).phase) ?? "", age(ns, now)],
};

// ---- the smaller kinds ------------------------------------------------------------

const count = (value: unknown): number => Object.keys(asDict(value)).length;

const eventPrinter: Printer = {
  columns: [
    column("Last Seen", "string", "Time when last Event occurred"),
    column("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future."),
    column("Reason", "string", "Reason why the action was taken. It is human-readable."),
    column("Object", "string", "The object that this event is about."),
    column("Message", "string", "A human-readable description of the status of this operation."),
    column("Subobject", "string", "The subobject that this event is about.", 1),
    column("Source", "string", "The component reporting this event.", 1),
    column("First Seen", "string", "Time when first Event occurred", 1),
    column("Count", "string", "The number of times this event has occurred.", 1),
    column("Name", "string", "Name of the event.", 1, "name"),
  ],
  cells(event, now) {
    const e = event as Dict;
    const involved = asDict(e.involvedObject);
    const source = asDict(e.source);
    const last = str(e.lastTimestamp) ?? str(e.eventTime) ?? event.metadata.creationTimestamp;
    const first = str(e.firstTimestamp) ?? str(e.eventTime) ?? event.metadata.creationTimestamp;
    const since = (t: string | undefined): string => (t ? humanDuration(now - Date.parse(t)) : "<unknown>");
    const sourceText = str(source.component)
      ? `${str(source.component)}${str(source.host) ? `, ${str(source.host)}` : ""}`
      : (str(e.reportingComponent) ?? "");
    return [
      since(last),
      str(e.type) ?? "",
      str(e.reason) ?? "",
      `${(str(involved.kind) ?? "").toLowerCase()}/${str(involved.name) ?? ""}`,
      (str(e.message) ?? "").trim(),
      str(involved.fieldPath) ?? "",
      sourceText,
      since(first),
      String(num(e.count) || 1),
      event.metadata.name ?? "",
    ];
  },
};

const configMapPrinter: Printer = {
  columns: [nameColumn, column("Data", "string", "Data contains the configuration data."), ageColumn],
  cells: (o, now) => [o.metadata.name ?? "", count(o.data) + count(o.binaryData), age(o, now)],
};

const secretPrinter: Printer = {
  columns: [
    nameColumn,
    column("Type", "string", "The type of the secret"),
    column("Data", "string", "The number of entries in the secret"),
    ageColumn,
  ],
  cells: (o, now) => [o.metadata.name ?? "", str(o.type) ?? "Opaque", count(o.data), age(o, now)],
};

const serviceAccountPrinter: Printer = {
  columns: [
    nameColumn,
    column(
      "Secrets",
      "string",
      "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    ),
    ageColumn,
  ],
  cells: (o, now) => [o.metadata.name ?? "", asList(o.secrets).length, age(o, now)],
};

const controllerRevisionPrinter: Printer = {
  columns: [
    nameColumn,
    column("Controller", "string", "Controller of the object."),
    column("Revision", "string", "Revision indicates the revision of the state represented by Data."),
    ageColumn,
  ],
  cells(o, now) {
    const owner = (o.metadata.ownerReferences ?? []).find((r) => r.controller);
    const controller = owner
      ? `${owner.kind.toLowerCase()}.${owner.apiVersion.split("/")[0]}/${owner.name}`
      : "<none>";
    return [o.metadata.name ?? "", controller, num(o.revision), age(o, now)];
  },
};

const rolePrinter: Printer = {
  columns: [
    nameColumn,
    column(
      "Created At",
      "date",
      "CreationTimestamp is a timestamp representing the server time when this object was created.",
    ),
  ],
  cells: (o) => [o.metadata.name ?? "", o.metadata.creationTimestamp ?? ""],
};

const roleBindingPrinter: Printer = {
  columns: [
    nameColumn,
    column("Role", "string", "RoleRef is the reference to the role this binding grants."),
    ageColumn,
    column("Users", "string", "Users in the binding", 1),
    column("Groups", "string", "Groups in the binding", 1),
    column("ServiceAccounts", "string", "ServiceAccounts in the binding", 1),
  ],
  cells(o, now) {
    const ref = asDict(o.roleRef);
    const subjects = asList(o.subjects);
    const of = (kind: string, format: (s: Dict) => string): string =>
      subjects
        .filter((s) => s.kind === kind)
        .map(format)
        .join(", ");
    return [
      o.metadata.name ?? "",
      `${str(ref.kind) ?? ""}/${str(ref.name) ?? ""}`,
      age(o, now),
      of("User", (s) => str(s.name) ?? ""),
      of("Group", (s) => str(s.name) ?? ""),
      of("ServiceAccount", (s) => `${str(s.namespace) ?? ""}/${str(s.name) ?? ""}`),
    ];
  },
};

const networkPolicyPrinter: Printer = {
  columns: [
    nameColumn,
    column("Pod-Selector", "string", "Selects the pods to which this NetworkPolicy object applies."),
    ageColumn,
  ],
  cells: (o, now) => [o.metadata.name ?? "", selectorString(asDict(o.spec).podSelector), age(o, now)],
};

const servicePrinter: Printer = {
  columns: [
    nameColumn,
    column("Type", "string", "The type of the service"),
    column("Cluster-IP", "string", "The IP address of the service"),
    column("External-IP", "string", "The external IP address of the service"),
    column("Port(s)", "string", "The ports of the service"),
    ageColumn,
    column(
      "Selector",
      "string",
      "Route service traffic to pods with label keys and values matching this selector.",
      1,
    ),
  ],
  cells(o, now) {
    const spec = asDict(o.spec);
    const ports = asList(spec.ports).map(
      (p) => `${num(p.port)}${p.nodePort ? `:${num(p.nodePort)}` : ""}/${str(p.protocol) ?? "TCP"}`,
    );
    const external = asList(spec.externalIPs).map(String);
    return [
      o.metadata.name ?? "",
      str(spec.type) ?? "ClusterIP",
      str(spec.clusterIP) ?? "<none>",
      external.length > 0 ? external.join(",") : "<none>",
      ports.length > 0 ? ports.join(",") : "<none>",
      age(o, now),
      labelsString(spec.selector),
    ];
  },
};

const leasePrinter: Printer = {
  columns: [nameColumn, column("Holder", "string", "Name of the Lease holder"), ageColumn],
  cells: (o, now) => [o.metadata.name ?? "", str(asDict(o.spec).holderIdentity) ?? "", age(o, now)],
};

const genericPrinter: Printer = {
  columns: [nameColumn, ageColumn],
  cells: (object, now) => [object.metadata.name ?? "", age(object, now)],
};

const PRINTERS: Record<string, Printer> = {
  Pod: podPrinter,
  Node: nodePrinter,
  DaemonSet: daemonSetPrinter,
  Namespace: namespacePrinter,
  Event: eventPrinter,
  ConfigMap: configMapPrinter,
  Secret: secretPrinter,
  ServiceAccount: serviceAccountPrinter,
  ControllerRevision: controllerRevisionPrinter,
  ClusterRole: rolePrinter,
  Role: rolePrinter,
  ClusterRoleBinding: roleBindingPrinter,
  RoleBinding: roleBindingPrinter,
  NetworkPolicy: networkPolicyPrinter,
  Service: servicePrinter,
  Lease: leasePrinter,
};

export type IncludeObject = "None" | "Metadata" | "Object";

/** Whether an Accept header asks for a `meta.k8s.io` Table (kubectl's human output does). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  // Take the first media range that is JSON: kubectl lists Table first, plain JSON as fallback.
  for (const range of accept.split(",")) {
    const params = range.split(";").map((p) => p.trim());
    if (params[0] !== "application/json" && params[0] !== "*/*") continue;
    const get = (key: string): string | undefined =>
      params.find((p) => p.startsWith(`${key}=`))?.slice(key.length + 1);
    if (get("as") === "Table" && get("g") === "meta.k8s.io" && (get("v") === "v1" || get("v") === "v1beta1"))
      return true;
    if (get("as") === undefined) return false;
  }
  return false;
}

function rowObject(object: KubeObject, include: IncludeObject): object | undefined {
  if (include === "None") return undefined;
  if (include === "Object") return object;
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata };
}

/** Builds the Table for a list (or a single object) of one kind. */
export function toTable(
  kind: string,
  objects: KubeObject[],
  options: { resourceVersion?: string; continue?: string; includeObject: IncludeObject; now: number },
): object {
  const printer = PRINTERS[kind] ?? genericPrinter;
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: {
      ...(options.resourceVersion !== undefined ? { resourceVersion: options.resourceVersion } : {}),
      ...(options.continue ? { continue: options.continue } : {}),
    },
    columnDefinitions: printer.columns,
    rows: objects.map((object) => {
      const row = rowObject(object, options.includeObject);
      return { cells: printer.cells(object, options.now), ...(row ? { object: row } : {}) };
    }),
  };
}
