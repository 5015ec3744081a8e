// Input and output schemas of the API. The dashboard imports their types only;
// the rules its forms check at run time come from @tapfleet/sensor.
import { SNAPSHOT_LIMITS, ZPcapSnapshotParamsSchema } from "@tapfleet/sensor/actions";
import {
  ZReportSummarySchema,
  type COVERAGE_STATE_SEVERITY,
  type ReportSummary as ReportSummaryOutput,
} from "@tapfleet/core";
import {
  ZClusterIdSchema,
  ZRoleSchema,
  ZUsernameSchema,
  USERNAME_MAX_LENGTH,
} from "@tapfleet/sensor/accounts";
import {
  PASSWORD_MAX_LENGTH,
  ZChangeMyPasswordInputSchema,
  ZPasswordSchema,
} from "@tapfleet/sensor/passwords";
import { z } from "zod";

// The account rules are defined once, in the sensor contract, for the API, core and the dashboard.
export { ZChangeMyPasswordInputSchema, ZClusterIdSchema, ZPasswordSchema, ZRoleSchema, ZUsernameSchema };

export const ZIdSchema = z.uuid("must be a UUID");

/** The coverage states by severity, problems first, as the nodes lists sort them: the dashboard's order is typed by it. */
export type CoverageStateSeverity = typeof COVERAGE_STATE_SEVERITY;

export const ZLoginInputSchema = z.object({
  username: z
    .string()
    .trim()
    .min(1, "is required")
    .max(USERNAME_MAX_LENGTH, `must be at most ${USERNAME_MAX_LENGTH} characters`),
  password: z
    .string()
    .min(1, "is required")
    .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`),
});

export const ZUserSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string().nullable(),
  role: ZRoleSchema,
  createdAt: z.string(),
  disabled: z.boolean(),
});
export type UserOutput = z.infer<typeof ZUserSchema>;

export const ZCreateUserInputSchema = z.object({
  username: ZUsernameSchema,
  displayName: z.string().trim().max(128, "must be at most 128 characters").nullish(),
  role: ZRoleSchema,
  password: ZPasswordSchema,
});

export const ZUpdateUserInputSchema = z
  .object({
    id: ZIdSchema,
    role: ZRoleSchema.optional(),
    displayName: z.string().trim().max(128, "must be at most 128 characters").nullish(),
    disabled: z.boolean().optional(),
  })
  .strict();

export const ZTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** The role the token was created with. */
  role: ZRoleSchema,
  /** The role it acts with now: `role`, capped by its owner's current role. */
  effectiveRole: ZRoleSchema,
  prefix: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdBy: z.object({ id: z.string(), username: z.string() }),
});
export type TokenOutput = z.infer<typeof ZTokenSchema>;

export const ZCreateTokenInputSchema = z.object({
  name: z.string().trim().min(1, "is required").max(100, "must be at most 100 characters"),
  role: ZRoleSchema,
  expiresAt: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }).nullish(),
});

// Defined in core next to the live topic that carries it.
export { ZAuditEventSchema, type AuditEventOutput } from "@tapfleet/core";

export const ZAuditListInputSchema = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,19}$/, "must be a cursor returned by a previous page")
    .optional(),
  limit: z.coerce
    .number()
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(200, "must be at most 200")
    .default(50),
  /** One action exactly, as `audit.actions` lists them. */
  action: z.string().max(100, "must be at most 100 characters").optional(),
  actor: z.string().max(100, "must be at most 100 characters").optional(),
  outcome: z.enum(["success", "failure"]).optional(),
});

export const ZOkSchema = z.object({ ok: z.literal(true) });

export const ZCreateClusterInputSchema = z.object({
  id: ZClusterIdSchema,
  displayName: z.string().trim().max(128, "must be at most 128 characters").nullish(),
});

export const ZRotateKeyInputSchema = z.object({
  id: ZClusterIdSchema,
  graceHours: z.number().min(0, "must be at least 0").max(720, "must be at most 720 (30 days)").default(24),
});

export const ZIngestKeySchema = z.object({
  keyId: z.string(),
  createdAt: z.string(),
  retiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});

/** A kubeconfig as pasted or uploaded; its content is checked by the server (packages/kube). */
export const ZKubeconfigTextSchema = z
  .string({ error: "is required" })
  .min(1, "is required")
  .max(1024 * 1024, "must be at most 1 MiB");

export const ZSaveClusterConnectionInputSchema = z.object({
  id: ZClusterIdSchema,
  kubeconfig: ZKubeconfigTextSchema,
  /** One of the kubeconfig's contexts; default its current-context. */
  context: z.string().trim().max(253, "must be at most 253 characters").optional(),
});

export const ZClusterConnectionInputSchema = z.object({ id: ZClusterIdSchema });

export const ZRemoveClusterInputSchema = z.object({
  id: ZClusterIdSchema,
  releaseSensor: z.enum(["true", "false"], { error: "must be true or false" }).optional().meta({
    description:
      "true: release the sensor Tapfleet installed or adopted there (nothing is deleted in the Kubernetes cluster) instead of refusing.",
  }),
});

export const ZRemovedClusterSchema = z.object({
  id: z.string(),
  removed: z.object({
    ingestKeys: z.number().int(),
    sensors: z.number().int(),
    reports: z.number().int(),
    statsRollups: z.number().int(),
    inventoryNodes: z.number().int(),
    sensorDrifts: z.number().int(),
  }),
  /** The sensor Tapfleet stopped managing (releaseSensor=true); its objects stay in the Kubernetes cluster. */
  releasedSensor: z
    .object({
      origin: z.string(),
      namespace: z.string(),
      name: z.string(),
      objects: z.array(z.object({ kind: z.string(), name: z.string(), namespace: z.string().nullable() })),
    })
    .nullable(),
});

export const ZSetClusterConnectionEnabledInputSchema = z.object({
  id: ZClusterIdSchema,
  enabled: z.boolean({ error: "must be true or false" }),
});

export const ZKubeAuthKindSchema = z.enum(["token", "client certificate"]);

export const ZKubeconfigContextsSchema = z.object({
  contexts: z.array(
    z.object({
      name: z.string(),
      server: z.string().optional(),
      authKind: ZKubeAuthKindSchema.optional(),
      insecure: z.boolean().optional(),
      /** Why the context cannot be used, if it cannot. */
      problem: z.string().optional(),
    }),
  ),
  currentContext: z.string().nullable(),
});

/** A cluster's Kubernetes connection: where it points and how it does; never its credentials. */
export const ZClusterConnectionSchema = z.object({
  context: z.string(),
  server: z.string(),
  authKind: ZKubeAuthKindSchema,
  /** insecure-skip-tls-verify is set: the server's certificate is not checked. */
  insecure: z.boolean(),
  enabled: z.boolean(),
  state: z.enum(["reachable", "unreachable", "disabled"]),
  since: z.string(),
  serverVersion: z.string().nullable(),
  nodeCount: z.number().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  checkedAt: z.string(),
  updatedAt: z.string(),
});

export const ZClusterSchema = z.object({
  id: z.string(),
  displayName: z.string().nullable(),
  createdAt: z.string(),
  sensorCount: z.number(),
  keys: z.array(ZIngestKeySchema),
  connection: ZClusterConnectionSchema.nullable(),
});

// Defined in core next to the live topic that carries it.
export { ZReportSummarySchema, type ReportSummaryOutput };

/**
 * Whether a sensor still reports, judged on the server (three missed report intervals make it
 * silent). `silentAt` is when it turns silent without a new report, so a page can flip its badge
 * then without a rule of its own.
 */
export const ZSensorReportingSchema = z.object({
  state: z.enum(["reporting", "silent"]),
  silentAt: z.string(),
  silentSince: z.string().nullable(),
});

export const ZSensorSchema = z.object({
  id: z.string(),
  clusterId: z.string(),
  nodeName: z.string(),
  podName: z.string(),
  agentVersion: z.string(),
  configHash: z.string(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  lastSummary: ZReportSummarySchema.nullable(),
  reporting: ZSensorReportingSchema,
});

/** A report as the live stream sends it: its summary and the sensor's reporting state after it. */
export const ZLiveReportSchema = ZReportSummarySchema.extend({ reporting: ZSensorReportingSchema });

// Antigena response actions.

// The bounds are the sensor contract's, so the dashboard's form and this API refuse the same input.
const snapshotParams = ZPcapSnapshotParamsSchema.shape;

export const ZRequestSnapshotInputSchema = z.object({
  /** The sensor. */
  id: ZIdSchema,
  durationSeconds: snapshotParams.durationSeconds.default(SNAPSHOT_LIMITS.durationSeconds.default),
  filter: snapshotParams.filter.default(""),
  interface: snapshotParams.interface,
  maxBytes: snapshotParams.maxBytes.default(SNAPSHOT_LIMITS.maxBytes.default),
  maxPackets: snapshotParams.maxPackets.default(SNAPSHOT_LIMITS.maxPackets.default),
  /** How long the action waits for the agent's next poll before it expires. */
  pickupTimeoutSeconds: z
    .number()
    .int("must be an integer")
    .min(10, "must be at least 10")
    .max(86_400, "must be at most 86400 (a day)")
    .default(600),
});

export const ZSensorActionsInputSchema = z.object({
  id: ZIdSchema,
  limit: z.coerce
    .number()
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(200, "must be at most 200")
    .default(50),
});

export const ZSensorActionSchema = z.object({
  id: z.string(),
  sensorId: z.string(),
  type: z.enum(["pcap_snapshot"]),
  status: z.enum(["pending", "delivered", "succeeded", "failed", "expired"]),
  params: z.object({
    durationSeconds: z.number(),
    filter: z.string(),
    interface: z.string().optional(),
    maxBytes: z.number(),
    maxPackets: z.number(),
  }),
  requestedAt: z.string(),
  requestedBy: z.object({ type: z.enum(["user", "token", "system", "anonymous"]), name: z.string() }),
  pickupBy: z.string(),
  deliveredAt: z.string().nullable(),
  resultDueBy: z.string().nullable(),
  finishedAt: z.string().nullable(),
  reason: z.string().nullable(),
  result: z
    .object({
      packetCount: z.number(),
      pcapBytes: z.number(),
      interfaces: z.array(z.string()),
      endedBy: z.string().nullable(),
      pcapAvailable: z.boolean(),
      /** Where to download it (same credentials), when available. */
      pcapUrl: z.string().nullable(),
    })
    .nullable(),
});
export type SensorActionOutput = z.infer<typeof ZSensorActionSchema>;
