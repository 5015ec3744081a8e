// /ingest: the agents' endpoints. The body is read raw, because the signature
// covers its exact bytes; the gateway in core does the rest.
import { type IngestGateway } from "@tapfleet/core";
import { INGEST_PATHS, MAX_CHUNK_BODY_BYTES, MAX_REPORT_BYTES } from "@tapfleet/sensor";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";

type App = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>;

/**
 * Sets up a scope of agent endpoints: bodies arrive raw, because the
 * signature covers their exact bytes, and errors Fastify raises itself
 * (oversized, malformed) answer in the protocol's refusal shape.
 */
export function useSignedBodies(scope: FastifyInstance, failureMessage: string): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  scope.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const tooLarge = error.code === "FST_ERR_CTP_BODY_TOO_LARGE";
    const status = tooLarge
      ? 413
      : error.statusCode && error.statusCode >= 400 && error.statusCode < 500
        ? error.statusCode
        : 500;
    // Anything else is our fault, not load: the agent retries a 500 as it
    // would a 429, but the operator must see it as the error it is.
    if (status >= 500) request.log.error({ err: error }, failureMessage);
    void reply.status(status).send({
      ok: false,
      reason: tooLarge ? "too_large" : status >= 500 ? "internal" : "malformed",
      message: tooLarge
        ? "body is larger than this endpoint accepts"
        : status >= 500
          ? `internal server error (request ${request.id}); retry later`
          : error.message,
      serverTime: Date.now(),
    });
  });
}

export async function registerIngestRoutes(
  app: App,
  options: { gateway: IngestGateway; bareEndpoint?: boolean },
): Promise<void> {
  await app.register((ingest, _options, done) => {
    useSignedBodies(ingest, "ingest failed");

    const handle =
      (
        accept: (
          request: Parameters<IngestGateway["acceptReport"]>[0],
        ) => ReturnType<IngestGateway["acceptReport"]>,
      ) =>
      async (request: FastifyRequest, reply: FastifyReply) => {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const result = await accept({
          method: request.method,
          path: request.url,
          headers: request.headers,
          body,
        });
        if (!result.body.ok) request.log.info({ reason: result.body.reason }, "ingest request refused");
        return reply.status(result.status).send(result.body);
      };

    ingest.post(
      INGEST_PATHS.reports,
      { bodyLimit: MAX_REPORT_BYTES },
      handle((r) => options.gateway.acceptReport(r)),
    );
    ingest.post(
      INGEST_PATHS.chunks,
      { bodyLimit: MAX_CHUNK_BODY_BYTES },
      handle((r) => options.gateway.acceptChunk(r)),
    );
    if (options.bareEndpoint) {
      // The benchmark's baseline: same stack, same body handling, no verification or storage.
      ingest.post("/ingest/v1/bare", { bodyLimit: MAX_REPORT_BYTES }, async (_request, reply) =>
        reply.status(200).send({ ok: true, serverTime: Date.now() }),
      );
    }
    done();
  });
}
