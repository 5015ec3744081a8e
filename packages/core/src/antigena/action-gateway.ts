// Antigena, the agent's side: the signed poll that hands out a sensor's
// actions, and the signed result upload that closes one. Verification is the
// ingest gateway's (same keys, clock window, nonces, size limits); nothing is
// stored for a refused request.
import type { Db, LiveBus } from "@tapfleet/db";
import {
  decodeActionResultUpload,
  MAX_ACTION_RESULT_BODY_BYTES,
  MAX_ACTIONS_PER_POLL,
  parseActionPollPath,
  ZPcapSnapshotParamsSchema,
  type ActionRefusalReason,
  type ActionPollResponse,
  type ActionResultResponse,
  type SensorAction,
} from "@tapfleet/sensor";
import { recordAuditEvent } from "../audit/audit.ts";
import { otherClusterRefusal, type IngestGateway, type IngestRequest } from "../ingest/gateway.ts";
import { expireSensorActions, KEPT_RESULT_PCAPS_PER_SENSOR, RESULT_GRACE_MS } from "./actions.ts";

export interface ActionGatewayResult<T> {
  status: number;
  body: T;
}

export interface ActionGateway {
  acceptPoll(request: IngestRequest): Promise<ActionGatewayResult<ActionPollResponse>>;
  acceptResult(request: IngestRequest): Promise<ActionGatewayResult<ActionResultResponse>>;
}

export function createActionGateway(options: {
  db: Db;
  /** Where the audit events of results and expiries are published. */
  bus: LiveBus;
  ingest: Pick<IngestGateway, "verifySigned">;
  clock?: () => number;
  onError?: (error: unknown, context: string) => void;
}): ActionGateway {
  const { db, bus } = options;
  const clock = options.clock ?? Date.now;

  const refuse = (
    status: number,
    reason: ActionRefusalReason,
    message: string,
  ): ActionGatewayResult<{
    ok: false;
    reason: ActionRefusalReason;
    message: string;
    serverTime: number;
  }> => ({
    status,
    body: { ok: false, reason, message, serverTime: clock() },
  });

  return {
    async acceptPoll(request) {
      // A poll has no body: anything in it is refused as too large.
      const verified = await options.ingest.verifySigned(request, 0);
      if ("refusal" in verified) return verified.refusal as ActionGatewayResult<ActionPollResponse>;
      const target = parseActionPollPath(request.path);
      if (!target.ok) return refuse(400, "malformed", target.message);
      const now = new Date(clock());
      const sensor = await db.sensor.findUnique({
        where: { clusterId_nodeName: { clusterId: verified.clusterId ?? "", nodeName: target.nodeName } },
        select: { id: true },
      });
      // A sensor that has not reported yet has no actions (they are requested for known sensors).
      if (!sensor) return { status: 200, body: { ok: true, serverTime: now.getTime(), actions: [] } };
      await db.sensor.update({ where: { id: sensor.id }, data: { lastSeenAt: now } });
      await expireSensorActions({ db, bus, now, sensorId: sensor.id });
      // Hand out what is pending; the result deadline counts from now.
      await db.$executeRaw`
        UPDATE "SensorAction" SET "status" = 'delivered', "deliveredAt" = ${now},
          "resultDueBy" = ${now}::timestamptz
            + make_interval(secs => ("params"->>'durationSeconds')::int)
            + make_interval(secs => ${RESULT_GRACE_MS / 1000}::int)
        WHERE "sensorId" = ${sensor.id}::uuid AND "status" = 'pending' AND "pickupBy" > ${now}`;
      // Delivered ones are sent again until they are closed: an answer lost on
      // the way costs nothing, and the agent ignores ids it already runs.
      const rows = await db.sensorAction.findMany({
        where: { sensorId: sensor.id, status: "delivered", resultDueBy: { gt: now } },
        orderBy: { requestedAt: "asc" },
        take: MAX_ACTIONS_PER_POLL,
        select: { id: true, type: true, requestedAt: true, resultDueBy: true, params: true },
      });
      const actions: SensorAction[] = rows.map((row) => ({
        id: row.id,
        type: row.type,
        requestedAt: row.requestedAt.getTime(),
        deadlineAt: row.resultDueBy!.getTime(),
        params: ZPcapSnapshotParamsSchema.parse(row.params),
      }));
      return { status: 200, body: { ok: true, serverTime: now.getTime(), actions } };
    },

    async acceptResult(request) {
      const verified = await options.ingest.verifySigned(request, MAX_ACTION_RESULT_BODY_BYTES);
      if ("refusal" in verified) return verified.refusal;
      const decoded = decodeActionResultUpload(request.body);
      if (!decoded.ok) return refuse(400, "invalid_body", decoded.message);
      const { metadata, pcap } = decoded.value;
      const otherCluster = otherClusterRefusal(verified.clusterId, metadata.agent.clusterId, clock());
      if (otherCluster) return otherCluster;
      const now = new Date(clock());
      const outcome = await db.$transaction(async (tx) => {
        // Locked, so two uploads for one action cannot both close it.
        const found = await tx.$queryRaw<
          Array<{
            id: string;
            sensorId: string;
            status: string;
            resultDueBy: Date | null;
            params: unknown;
            clusterId: string;
            nodeName: string;
          }>
        >`
          SELECT a.id::text AS id, a."sensorId"::text AS "sensorId", a."status"::text AS "status",
                 a."resultDueBy", a."params", s."clusterId", s."nodeName"
          FROM "SensorAction" a JOIN "Sensor" s ON s.id = a."sensorId"
          WHERE a.id = ${metadata.actionId}::uuid FOR UPDATE OF a`;
        const action = found[0];
        if (
          !action ||
          action.clusterId !== metadata.agent.clusterId ||
          action.nodeName !== metadata.agent.nodeName
        ) {
          return refuse(
            404,
            "unknown_action",
            `no action ${metadata.actionId} for node "${metadata.agent.nodeName}" in cluster "${metadata.agent.clusterId}"`,
          );
        }
        if (action.status !== "delivered") {
          return refuse(
            409,
            "action_closed",
            action.status === "pending"
              ? `action ${action.id} was not handed out yet`
              : `action ${action.id} is already ${action.status}`,
          );
        }
        if (action.resultDueBy === null || action.resultDueBy.getTime() <= now.getTime()) {
          return refuse(409, "action_closed", `action ${action.id} is past its result deadline`);
        }
        const params = ZPcapSnapshotParamsSchema.parse(action.params);
        if (metadata.pcapBytes > params.maxBytes || metadata.packetCount > params.maxPackets) {
          return refuse(
            400,
            "invalid_body",
            `the result (${metadata.pcapBytes} bytes, ${metadata.packetCount} packets) exceeds the action's bounds (${params.maxBytes} bytes, ${params.maxPackets} packets)`,
          );
        }
        const succeeded = metadata.status === "succeeded";
        await tx.sensorAction.update({
          where: { id: action.id },
          data: {
            status: metadata.status,
            finishedAt: now,
            reason: metadata.reason ?? null,
            resultInterfaces: metadata.interfaces,
            resultEndedBy: metadata.endedBy ?? null,
            packetCount: metadata.packetCount,
            pcapBytes: metadata.pcapBytes,
            pcap: succeeded
              ? (Buffer.from(pcap.buffer, pcap.byteOffset, pcap.byteLength) as Uint8Array<ArrayBuffer>)
              : null,
          },
        });
        await tx.sensor.update({ where: { id: action.sensorId }, data: { lastSeenAt: now } });
        if (succeeded) {
          // Bounded storage: the newest results keep their pcap.
          await tx.$executeRaw`
            UPDATE "SensorAction" SET "pcap" = NULL WHERE id IN (
              SELECT id FROM "SensorAction"
              WHERE "sensorId" = ${action.sensorId}::uuid AND "pcap" IS NOT NULL
              ORDER BY "finishedAt" DESC, id DESC OFFSET ${KEPT_RESULT_PCAPS_PER_SENSOR})`;
        }
        return { actionId: action.id, sensorId: action.sensorId };
      });
      if ("status" in outcome) return outcome;
      await recordAuditEvent({
        db,
        bus,
        actor: { type: "system", name: `agent ${metadata.agent.clusterId}/${metadata.agent.nodeName}` },
        action: "sensors.actionResult",
        target: outcome.actionId,
        outcome: metadata.status === "succeeded" ? "success" : "failure",
        errorCode: metadata.status === "succeeded" ? null : "ACTION_FAILED",
        detail: {
          sensorId: outcome.sensorId,
          status: metadata.status,
          reason: metadata.reason,
          packetCount: metadata.packetCount,
          pcapBytes: metadata.pcapBytes,
          endedBy: metadata.endedBy,
        },
      }).catch((error: unknown) => options.onError?.(error, "recording an action result in the audit log"));
      return { status: 200, body: { ok: true, serverTime: clock() } };
    },
  };
}
