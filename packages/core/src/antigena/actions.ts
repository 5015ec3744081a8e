// Antigena response actions, the operator's side: request a pcap snapshot of
// a sensor, list a sensor's actions, download a result, and expire actions
// the agent did not pick up or finish in time. The agent's side (poll and
// result upload) is in ./action-gateway.ts.
//
// Lifecycle: pending → delivered (handed out by a poll) → succeeded | failed
// (the agent's result); pending or delivered → expired (deadline passed).
import type { Db, LiveBus } from "@tapfleet/db";
import { Prisma } from "@tapfleet/db";
import { ZPcapSnapshotParamsSchema, type PcapSnapshotParams } from "@tapfleet/sensor";
import type { AuthenticatedActor } from "../actor.ts";
import { recordAuditEvent } from "../audit/audit.ts";
import { AppError } from "../errors.ts";

/** Open (pending or delivered) actions one sensor may have at a time. */
export const MAX_OPEN_ACTIONS_PER_SENSOR = 4;
/** How long a new action waits for the agent's poll unless the request says otherwise. */
export const DEFAULT_PICKUP_TIMEOUT_SECONDS = 600;
export const PICKUP_TIMEOUT_LIMITS = { min: 10, max: 86_400 } as const;
/** Time for the upload (and its retries) after the capture itself has ended. */
export const RESULT_GRACE_MS = 120_000;
/** Result pcaps kept per sensor; older ones are dropped, their records stay. */
export const KEPT_RESULT_PCAPS_PER_SENSOR = 20;

export interface SensorActionView {
  id: string;
  sensorId: string;
  type: "pcap_snapshot";
  status: "pending" | "delivered" | "succeeded" | "failed" | "expired";
  params: PcapSnapshotParams;
  requestedAt: Date;
  requestedBy: { type: "user" | "token" | "system" | "anonymous"; name: string };
  pickupBy: Date;
  deliveredAt: Date | null;
  resultDueBy: Date | null;
  finishedAt: Date | null;
  reason: string | null;
  result: {
    packetCount: number;
    pcapBytes: number;
    interfaces: string[];
    endedBy: string | null;
    /** False once the pcap was dropped to keep only the newest results. */
    pcapAvailable: boolean;
  } | null;
}

/** Every column but the pcap itself, plus whether it is still there. */
const VIEW_SELECT = {
  id: true,
  sensorId: true,
  type: true,
  status: true,
  params: true,
  requestedAt: true,
  requestedByType: true,
  requestedByName: true,
  pickupBy: true,
  deliveredAt: true,
  resultDueBy: true,
  finishedAt: true,
  reason: true,
  resultInterfaces: true,
  resultEndedBy: true,
  packetCount: true,
  pcapBytes: true,
} as const satisfies Prisma.SensorActionSelect;

type ViewRow = Prisma.SensorActionGetPayload<{ select: typeof VIEW_SELECT }>;

function toView(row: ViewRow, pcapAvailable: boolean): SensorActionView {
  return {
    id: row.id,
    sensorId: row.sensorId,
    type: row.type,
    status: row.status,
    // Written only after validation by the same schema; parse keeps the type honest.
    params: ZPcapSnapshotParamsSchema.parse(row.params),
    requestedAt: row.requestedAt,
    requestedBy: { type: row.requestedByType, name: row.requestedByName },
    pickupBy: row.pickupBy,
    deliveredAt: row.deliveredAt,
    resultDueBy: row.resultDueBy,
    finishedAt: row.finishedAt,
    reason: row.reason,
    result:
      row.status === "succeeded" || row.status === "failed"
        ? {
            packetCount: row.packetCount ?? 0,
            pcapBytes: row.pcapBytes ?? 0,
            interfaces: row.resultInterfaces,
            endedBy: row.resultEndedBy,
            pcapAvailable,
          }
        : null,
  };
}

async function withPcapFlags(db: Db, rows: ViewRow[]): Promise<SensorActionView[]> {
  const succeeded = rows.filter((row) => row.status === "succeeded").map((row) => row.id);
  const available =
    succeeded.length === 0
      ? new Set<string>()
      : new Set(
          (
            await db.sensorAction.findMany({
              where: { id: { in: succeeded }, pcap: { not: null } },
              select: { id: true },
            })
          ).map((row) => row.id),
        );
  return rows.map((row) => toView(row, available.has(row.id)));
}

async function requireSensor(db: Db, sensorId: string): Promise<void> {
  const sensor = await db.sensor.findUnique({ where: { id: sensorId }, select: { id: true } });
  if (!sensor)
    throw new AppError("NOT_FOUND", {
      userMessage: `No sensor with id ${sensorId} (GET /api/v1/sensors lists them).`,
    });
}

/**
 * Queues a pcap snapshot for a sensor. The agent picks it up at its next
 * poll (ANTIGENA_TIME_PERIOD); if it has not by `pickupTimeoutSeconds`, the
 * action expires.
 */
export async function requestPcapSnapshot(options: {
  db: Db;
  /** Where the audit events of actions expired on the way are published. */
  bus: LiveBus;
  actor: AuthenticatedActor;
  sensorId: string;
  params: PcapSnapshotParams;
  pickupTimeoutSeconds?: number | undefined;
  now?: Date;
}): Promise<SensorActionView> {
  const { db } = options;
  const parsed = ZPcapSnapshotParamsSchema.safeParse(options.params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError("INVALID_INPUT", {
      userMessage: `${issue.path.join(".") || "params"}: ${issue.message}`,
    });
  }
  const pickup = options.pickupTimeoutSeconds ?? DEFAULT_PICKUP_TIMEOUT_SECONDS;
  if (!Number.isInteger(pickup) || pickup < PICKUP_TIMEOUT_LIMITS.min || pickup > PICKUP_TIMEOUT_LIMITS.max) {
    throw new AppError("INVALID_INPUT", {
      userMessage: `pickupTimeoutSeconds: must be an integer from ${PICKUP_TIMEOUT_LIMITS.min} to ${PICKUP_TIMEOUT_LIMITS.max}`,
    });
  }
  const now = options.now ?? new Date();
  await requireSensor(db, options.sensorId);
  await expireSensorActions({ db, bus: options.bus, now, sensorId: options.sensorId });
  const row = await db.$transaction(async (tx) => {
    // The sensor row is the lock that makes "count open actions, then add one" atomic.
    await tx.$queryRaw`SELECT id FROM "Sensor" WHERE id = ${options.sensorId}::uuid FOR UPDATE`;
    const open = await tx.sensorAction.count({
      where: { sensorId: options.sensorId, status: { in: ["pending", "delivered"] } },
    });
    if (open >= MAX_OPEN_ACTIONS_PER_SENSOR) {
      throw new AppError("CONFLICT", {
        userMessage: `This sensor already has ${open} open actions (at most ${MAX_OPEN_ACTIONS_PER_SENSOR}); wait for one to finish or expire.`,
      });
    }
    return tx.sensorAction.create({
      data: {
        sensorId: options.sensorId,
        type: "pcap_snapshot",
        params: parsed.data,
        requestedAt: now,
        requestedByType: options.actor.type,
        requestedById: options.actor.id,
        requestedByName: options.actor.name,
        pickupBy: new Date(now.getTime() + pickup * 1000),
      },
      select: VIEW_SELECT,
    });
  });
  return toView(row, false);
}

/** A sensor's actions, newest first (stale ones are expired first, so the list tells the truth). */
export async function listSensorActions(options: {
  db: Db;
  /** Where the audit events of actions expired on the way are published. */
  bus: LiveBus;
  sensorId: string;
  limit?: number;
  now?: Date;
}): Promise<SensorActionView[]> {
  await requireSensor(options.db, options.sensorId);
  await expireSensorActions({
    db: options.db,
    bus: options.bus,
    now: options.now ?? new Date(),
    sensorId: options.sensorId,
  });
  const rows = await options.db.sensorAction.findMany({
    where: { sensorId: options.sensorId },
    orderBy: [{ requestedAt: "desc" }, { id: "desc" }],
    take: options.limit ?? 50,
    select: VIEW_SELECT,
  });
  return withPcapFlags(options.db, rows);
}

/** The result pcap of a succeeded snapshot of this sensor. */
export async function readSensorActionPcap(options: {
  db: Db;
  sensorId: string;
  actionId: string;
}): Promise<{ file: Buffer; packetCount: number }> {
  const row = await options.db.sensorAction.findFirst({
    where: { id: options.actionId, sensorId: options.sensorId },
    select: { status: true, pcap: true, packetCount: true },
  });
  if (!row)
    throw new AppError("NOT_FOUND", { userMessage: `This sensor has no action ${options.actionId}.` });
  if (row.status !== "succeeded")
    throw new AppError("NOT_FOUND", {
      userMessage: `Action ${options.actionId} has no pcap: it is ${row.status}${row.status === "pending" || row.status === "delivered" ? " (not finished yet)" : ""}.`,
    });
  if (!row.pcap)
    throw new AppError("NOT_FOUND", {
      userMessage: `The pcap of action ${options.actionId} was dropped: only the newest ${KEPT_RESULT_PCAPS_PER_SENSOR} results of a sensor are kept.`,
    });
  return { file: Buffer.from(row.pcap), packetCount: row.packetCount ?? 0 };
}

const PICKUP_EXPIRED =
  "not picked up in time: the agent did not poll (is ANTIGENA_ENABLED on, and the agent running?)";
const RESULT_EXPIRED = "no result in time: the agent did not upload one before the deadline";

/**
 * Closes pending actions past their pickup deadline and delivered ones past
 * their result deadline, each with an audit event. Safe to run on every
 * replica at once: each row changes once.
 */
export async function expireSensorActions(options: {
  db: Db;
  /** Where each expiry's audit event is published. */
  bus: LiveBus;
  now?: Date;
  sensorId?: string;
}): Promise<Array<{ id: string; sensorId: string; reason: string }>> {
  const now = options.now ?? new Date();
  const sensorFilter = options.sensorId
    ? Prisma.sql`AND "sensorId" = ${options.sensorId}::uuid`
    : Prisma.empty;
  const expired = await options.db.$queryRaw<Array<{ id: string; sensorId: string; reason: string }>>`
    UPDATE "SensorAction" SET
      "reason" = CASE WHEN "status" = 'pending' THEN ${PICKUP_EXPIRED} ELSE ${RESULT_EXPIRED} END,
      "status" = 'expired', "finishedAt" = ${now}
    WHERE (("status" = 'pending' AND "pickupBy" <= ${now}) OR ("status" = 'delivered' AND "resultDueBy" <= ${now}))
      ${sensorFilter}
    RETURNING id::text AS id, "sensorId"::text AS "sensorId", "reason"`;
  for (const action of expired) {
    await recordAuditEvent({
      db: options.db,
      bus: options.bus,
      actor: { type: "system", name: "tapfleet" },
      action: "sensors.actionExpired",
      target: action.id,
      outcome: "failure",
      errorCode: "EXPIRED",
      detail: { sensorId: action.sensorId, reason: action.reason },
    });
  }
  return expired;
}
