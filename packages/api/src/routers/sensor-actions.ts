// Antigena response actions of a sensor: request a pcap snapshot (operator),
// list actions (viewer). The result pcap is binary and is served by the
// server at GET /api/v1/sensors/{id}/actions/{actionId}/pcap.
import { listSensorActions, requestPcapSnapshot, type SensorActionView } from "@tapfleet/core";
import { z } from "zod";
import {
  ZRequestSnapshotInputSchema,
  ZSensorActionSchema,
  ZSensorActionsInputSchema,
  type SensorActionOutput,
} from "../schemas.ts";
import { operatorProcedure, viewerProcedure } from "../trpc.ts";

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

export function serializeSensorAction(action: SensorActionView): SensorActionOutput {
  return {
    ...action,
    requestedAt: action.requestedAt.toISOString(),
    pickupBy: action.pickupBy.toISOString(),
    deliveredAt: iso(action.deliveredAt),
    resultDueBy: iso(action.resultDueBy),
    finishedAt: iso(action.finishedAt),
    result: action.result && {
      ...action.result,
      pcapUrl: action.result.pcapAvailable
        ? `/api/v1/sensors/${action.sensorId}/actions/${action.id}/pcap`
        : null,
    },
  };
}

/** Queues a pcap snapshot; the agent runs it after its next poll. */
export const requestSnapshot = operatorProcedure
  .meta({
    openapi: {
      method: "POST",
      path: "/sensors/{id}/snapshots",
      summary: "Request a pcap snapshot from a sensor (Antigena)",
      tags: ["sensors"],
      protect: true,
    },
  })
  .input(ZRequestSnapshotInputSchema)
  .output(ZSensorActionSchema)
  .mutation(async ({ ctx, input }) => {
    const { id, pickupTimeoutSeconds, interface: device, ...params } = input;
    return serializeSensorAction(
      await requestPcapSnapshot({
        db: ctx.db,
        bus: ctx.bus,
        actor: ctx.actor,
        sensorId: id,
        params: device === undefined ? params : { ...params, interface: device },
        pickupTimeoutSeconds,
      }),
    );
  });

export const listActions = viewerProcedure
  .meta({
    openapi: {
      method: "GET",
      path: "/sensors/{id}/actions",
      summary: "List a sensor's response actions, newest first",
      tags: ["sensors"],
      protect: true,
    },
  })
  .input(ZSensorActionsInputSchema)
  .output(z.object({ items: z.array(ZSensorActionSchema) }))
  .query(async ({ ctx, input }) => ({
    items: (
      await listSensorActions({ db: ctx.db, bus: ctx.bus, sensorId: input.id, limit: input.limit })
    ).map(serializeSensorAction),
  }));
