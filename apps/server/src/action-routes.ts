// Antigena response actions over HTTP: the agents' signed poll and result
// upload under /ingest/v1, and the download of a result pcap under /api/v1
// (binary, so outside the JSON REST surface; same credentials and roles).
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { PCAP_MEDIA_TYPE, ZSensorActionPcapParamsSchema } from "@tapfleet/api";
import {
  createActionGateway,
  readSensorActionPcap,
  type IngestGateway,
  type SessionPolicy,
} from "@tapfleet/core";
import type { Db, LiveBus } from "@tapfleet/db";
import { INGEST_PATHS, MAX_ACTION_RESULT_BODY_BYTES } from "@tapfleet/sensor";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { authorizeRequest } from "./auth.ts";
import { useSignedBodies } from "./ingest-routes.ts";

export async function registerActionRoutes(
  app: FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>,
  options: { db: Db; bus: LiveBus; gateway: IngestGateway; sessionPolicy: SessionPolicy },
): Promise<void> {
  const actions = createActionGateway({
    db: options.db,
    bus: options.bus,
    ingest: options.gateway,
    onError: (error, context) => app.log.warn({ err: error }, context),
  });

  await app.register((ingest, _options, done) => {
    useSignedBodies(ingest, "action ingest failed");

    ingest.get(INGEST_PATHS.actions, async (request, reply) => {
      const result = await actions.acceptPoll({
        method: request.method,
        path: request.url,
        headers: request.headers,
        body: Buffer.alloc(0),
      });
      if (!result.body.ok) request.log.info({ reason: result.body.reason }, "action poll refused");
      return reply.status(result.status).send(result.body);
    });

    ingest.post(
      INGEST_PATHS.actionResults,
      { bodyLimit: MAX_ACTION_RESULT_BODY_BYTES },
      async (request, reply) => {
        const result = await actions.acceptResult({
          method: request.method,
          path: request.url,
          headers: request.headers,
          body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        });
        if (!result.body.ok) request.log.info({ reason: result.body.reason }, "action result refused");
        return reply.status(result.status).send(result.body);
      },
    );
    done();
  });

  // Declared in the OpenAPI document by DOWNLOAD_OPENAPI_PATHS, with this schema.
  app.get("/api/v1/sensors/:id/actions/:actionId/pcap", async (request, reply) => {
    await authorizeRequest({ ...options, request, role: "viewer" });
    const { id, actionId } = ZSensorActionPcapParamsSchema.parse(request.params);
    // A missing sensor, action or result is NOT_FOUND, answered like every other error.
    const pcap = await readSensorActionPcap({ db: options.db, sensorId: id, actionId });
    return reply
      .header("content-type", PCAP_MEDIA_TYPE)
      .header("content-disposition", `attachment; filename="snapshot-${actionId}.pcap"`)
      .header("x-tapfleet-packets", String(pcap.packetCount))
      .send(pcap.file);
  });
}
