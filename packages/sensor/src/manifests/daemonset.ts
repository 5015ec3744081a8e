// The DaemonSet: one capture pod per node, on the host network, reading its
// settings from env (the key from the Secret, identity from the downward API).

import { CONFIG_HASH_ANNOTATION } from "../config-hash.ts";
import { DOWNWARD_API_VARIABLES, renderSensorEnv, type SensorSettings } from "../settings.ts";
import { HMAC_SECRET_KEY } from "./secret.ts";
import { captureSecurityContext, nonRootSecurityContext, type CaptureMode } from "./security-context.ts";
import type {
  Container,
  DaemonSet,
  EnvVar,
  Labels,
  ObjectMeta,
  Probe,
  ResourceRequirements,
  Toleration,
  Volume,
} from "./types.ts";

export const CAPTURE_CONTAINER_NAME = "capture";

const DEFAULT_RESOURCES: ResourceRequirements = {
  requests: { cpu: "100m", memory: "128Mi" },
  limits: { memory: "512Mi" },
};

/**
 * Seconds a new pod must stay Ready before the DaemonSet counts it available
 * and its rolling update moves on to the next node, unless told otherwise. An
 * agent that crashes or loses capture soon after it starts is caught on the
 * first node instead of spreading; ten seconds is two probe periods.
 */
export const DEFAULT_MIN_READY_SECONDS = 10;

/**
 * The capture container's readiness: `tapfleet-agent probe` reads the agent's
 * status file (packages/agent). An exec probe, because under hostNetwork a
 * probe port would have to be free on every node. Ready within a period of the
 * first accepted report; not ready after three failed probes in a row.
 */
export const CAPTURE_READINESS_PROBE: Probe = {
  exec: { command: ["tapfleet-agent", "probe"] },
  periodSeconds: 5,
  // Node's start-up on a busy node, not the probe's work, is what takes time.
  timeoutSeconds: 5,
  successThreshold: 1,
  failureThreshold: 3,
};

export type VolumeMount = NonNullable<Container["volumeMounts"]>[number];

export interface PodStorage {
  volumes: Volume[];
  mounts: VolumeMount[];
  readOnlyRootFilesystem: boolean;
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/**
 * A writable emptyDir for the generated config file's directory, so that the
 * root filesystem can be read-only.
 */
export function configFileStorage(options: { configPath: string; warnings: string[] }): PodStorage {
  const configDirectory = dirname(options.configPath);
  if (configDirectory.split("/").filter(Boolean).length >= 2) {
    return {
      volumes: [{ name: "config", emptyDir: {} }],
      mounts: [{ name: "config", mountPath: configDirectory }],
      readOnlyRootFilesystem: true,
    };
  }
  // Mounting an emptyDir over /etc or / would hide the image's files.
  options.warnings.push(
    `OSSENSOR_CONFIG_PATH: ${options.configPath} is in a top-level directory, so the capture container's root filesystem stays writable`,
  );
  return { volumes: [], mounts: [], readOnlyRootFilesystem: false };
}

/** Settings in table order, the key from the Secret, identity from the downward API. */
function captureEnv(settings: SensorSettings, secretName: string): EnvVar[] {
  const env: EnvVar[] = Object.entries(renderSensorEnv(settings)).map(([variable, value]) =>
    variable === "VSENSOR_HMAC_KEY"
      ? { name: variable, valueFrom: { secretKeyRef: { name: secretName, key: HMAC_SECRET_KEY } } }
      : { name: variable, value },
  );
  for (const [variable, fieldPath] of Object.entries(DOWNWARD_API_VARIABLES))
    env.push({ name: variable, valueFrom: { fieldRef: { fieldPath } } });
  return env;
}

export interface RenderDaemonSetOptions {
  metadata: ObjectMeta;
  selectorLabels: Labels;
  /** The pod template's labels. */
  podLabels: Labels;
  settings: SensorSettings;
  configHash: string;
  /** Also the ServiceAccount's name. */
  serviceAccountName: string;
  secretName: string;
  storage: PodStorage;
  image: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  captureMode: CaptureMode;
  resources?: ResourceRequirements;
  tolerations?: Toleration[];
  priorityClassName?: string;
  sidecars?: Array<Omit<Container, "securityContext">>;
  minReadySeconds?: number;
}

export function renderDaemonSet(options: RenderDaemonSetOptions): DaemonSet {
  const capture: Container = {
    name: CAPTURE_CONTAINER_NAME,
    image: options.image,
    ...(options.imagePullPolicy === undefined ? {} : { imagePullPolicy: options.imagePullPolicy }),
    env: captureEnv(options.settings, options.secretName),
    securityContext: captureSecurityContext(options.captureMode, options.storage.readOnlyRootFilesystem),
    resources: options.resources ?? DEFAULT_RESOURCES,
    volumeMounts: options.storage.mounts,
    // An agent that exits on a bad setting says why in its log; this puts the log's tail in
    // the pod's status (lastState.terminated.message), where a rollback's reason can quote it.
    terminationMessagePolicy: "FallbackToLogsOnError",
    readinessProbe: {
      ...CAPTURE_READINESS_PROBE,
      exec: { command: [...CAPTURE_READINESS_PROBE.exec.command] },
    },
  };
  const sidecars: Container[] = (options.sidecars ?? []).map((sidecar) => {
    if (sidecar.name === CAPTURE_CONTAINER_NAME)
      throw new Error(`renderSensorManifests: a sidecar cannot be named ${CAPTURE_CONTAINER_NAME}`);
    return { ...sidecar, securityContext: nonRootSecurityContext() };
  });

  const annotations = { [CONFIG_HASH_ANNOTATION]: options.configHash };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { ...options.metadata, annotations: { ...annotations } },
    spec: {
      selector: { matchLabels: { ...options.selectorLabels } },
      minReadySeconds: options.minReadySeconds ?? DEFAULT_MIN_READY_SECONDS,
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        // The hash on the pod template is what rolls the pods when the Secret's key changes.
        metadata: { labels: { ...options.podLabels }, annotations: { ...annotations } },
        spec: {
          serviceAccountName: options.serviceAccountName,
          // The ServiceAccount opts out of automounting; this pod opts in because the agent reads the API.
          automountServiceAccountToken: true,
          hostNetwork: true,
          hostPID: false,
          dnsPolicy: "ClusterFirstWithHostNet",
          ...(options.priorityClassName === undefined
            ? {}
            : { priorityClassName: options.priorityClassName }),
          terminationGracePeriodSeconds: 30,
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          // A sensor belongs on every node, tainted ones included.
          tolerations: options.tolerations ?? [{ operator: "Exists" }],
          containers: [capture, ...sidecars],
          volumes: options.storage.volumes,
        },
      },
    },
  };
}
