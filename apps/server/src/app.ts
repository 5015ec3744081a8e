// The HTTP application: one Fastify instance serving tRPC, the REST API, the
// health and metrics endpoints and, by default, the dashboard.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import fastifyCookie from "@fastify/cookie";
import {
  answerForError,
  appRouter,
  describeErrorsInOpenApi,
  DOWNLOAD_OPENAPI_PATHS,
  PCAP_MEDIA_TYPE,
  POD_LOG_OPENAPI_PATHS,
  restErrorBody,
  ZPodLogParamsSchema,
  ZPodLogQuerySchema,
  ZSensorPcapParamsSchema,
  ZSensorPcapQuerySchema,
  type ApiContext,
  type ErrorAnswer,
} from "@tapfleet/api";
import type { DemoControl } from "@tapfleet/api";
import { listProcedures } from "@tapfleet/api/procedures";
import {
  AppError,
  POD_LOG_DEFAULT_TAIL,
  readClusterPodLog,
  readSensorPcap,
  type IngestGateway,
  type SecretBox,
  type SessionPolicy,
} from "@tapfleet/core";
import { checkDatabaseConnection, type Db, type LiveBus } from "@tapfleet/db";
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import Fastify, {
  LogController,
  type FastifyHttpOptions,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { Logger } from "pino";
import { fastifyTRPCOpenApiPlugin, generateOpenApiDocument } from "trpc-to-openapi";
import { registerActionRoutes } from "./action-routes.ts";
import { authenticateRequest, authorizeRequest, SESSION_COOKIE } from "./auth.ts";
import { registerCrossOriginGuard } from "./cross-origin-guard.ts";
import { fromFastifyError, sendError } from "./http-errors.ts";
import { registerIngestRoutes } from "./ingest-routes.ts";
import type { ServerMetrics } from "./metrics.ts";
import {
  DASHBOARD_HELMET_OPTIONS,
  passNonceToDashboard,
  registerSecurityHeaders,
} from "./security-headers.ts";

export interface AppOptions {
  db: Db;
  bus: LiveBus;
  secrets: SecretBox;
  gateway: IngestGateway;
  databaseUrl: string;
  logger: Logger;
  metrics: ServerMetrics;
  version: string;
  databaseKind: "embedded" | "external";
  /** Where agents report (TAPFLEET_PUBLIC_URL); null when not configured. */
  collector?: { url: string; host: string; port: number } | null;
  sessionPolicy: SessionPolicy;
  secureCookies: "auto" | "true" | "false";
  trustProxy: boolean;
  bodyLimit: number;
  /** The Next.js request handler for the dashboard, when it is served. */
  dashboard?: { handle: (req: FastifyRequest["raw"], res: FastifyReply["raw"]) => Promise<void> } | undefined;
  benchBareEndpoint?: boolean;
  /** PEM certificate (chain) and key: the app serves HTTPS instead of HTTP. */
  tls?: { cert: string; key: string } | undefined;
  /** Set by the process while it shuts down, so /readyz fails first. */
  isShuttingDown?: () => boolean;
  /** Whether this replica holds the leader lock; shown by /healthz. */
  isLeader?: () => boolean;
  /** How often an open live stream checks its caller's rights again (default 30 s). */
  liveRecheckMs?: number | undefined;
  /** The demo launcher (src/demo), behind demo.start/stop/status. */
  demo?: DemoControl | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export async function buildApp(
  options: AppOptions,
): Promise<FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>> {
  // With `https` Fastify creates an https.Server; its request and reply types
  // are the same as HTTP's, so the app keeps one type either way.
  const serverOptions = {
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy,
    requestIdHeader: false,
    // One line per request, written below, instead of Fastify's two at info for every request.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 500 },
  } as FastifyHttpOptions<Server, Logger>;
  const app = Fastify(serverOptions);

  await app.register(fastifyCookie);
  await registerSecurityHeaders(app);

  // The path as asked, for the request log: the REST adapter rewrites the URL it routes.
  const askedPaths = new WeakMap<FastifyRequest, string>();
  app.addHook("onRequest", async (request, reply) => {
    void reply.header("x-request-id", request.id);
    askedPaths.set(request, request.url.split("?")[0] ?? "");
  });
  registerCrossOriginGuard(app);
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    options.metrics.httpRequests
      .labels(request.method, route.startsWith("/trpc") ? "/trpc" : route, String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
    // Every agent uploads every few seconds and every page asks the API: answered requests are
    // counted in /metrics and logged at debug; a refused one is worth a line at info (an error
    // answered with 500 is logged where it is handled). The query string is left out.
    const line = {
      method: request.method,
      path: askedPaths.get(request),
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    };
    if (reply.statusCode >= 400 && reply.statusCode < 500) request.log.info(line, "request refused");
    else request.log.debug(line, "request answered");
  });

  // Every error the server answers itself goes through one path (http-errors.ts):
  // Fastify's own (malformed JSON, oversized bodies, bad content types), the
  // refusals and validation of its own routes, unknown routes.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) =>
    sendError(request, reply, fromFastifyError(error, options)),
  );
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new AppError("NOT_FOUND", { userMessage: `No route ${request.method} ${request.url.split("?")[0]}.` }),
    ),
  );

  const secure = (request: FastifyRequest) =>
    options.secureCookies === "auto" ? request.protocol === "https" : options.secureCookies === "true";

  const createContext = async ({
    req,
    res,
    info,
  }: {
    req: FastifyRequest;
    res: FastifyReply;
    info?: { isBatchCall: boolean; calls: { path: string }[] };
  }): Promise<ApiContext> => {
    const authenticate = () =>
      authenticateRequest({ db: options.db, request: req, sessionPolicy: options.sessionPolicy });
    const { actor, authError } = await authenticate();
    return {
      db: options.db,
      bus: options.bus,
      secrets: options.secrets,
      ingest: options.gateway,
      actor,
      authError,
      reauthenticate: authenticate,
      liveRecheckMs: options.liveRecheckMs ?? 30_000,
      origin: { ip: req.ip, userAgent: req.headers["user-agent"] },
      requestId: req.id,
      batchPaths: info?.isBatchCall ? info.calls.map((call) => call.path) : undefined,
      log: req.log,
      system: {
        version: options.version,
        database: options.databaseKind,
        collector: options.collector ?? null,
      },
      demo: options.demo,
      setSessionCookie: (value, expiresAt) => {
        void res.setCookie(SESSION_COOKIE, value, {
          httpOnly: true,
          sameSite: "lax",
          secure: secure(req),
          path: "/",
          expires: expiresAt,
        });
      },
      clearSessionCookie: () => {
        void res.clearCookie(SESSION_COOKIE, {
          path: "/",
          httpOnly: true,
          sameSite: "lax",
          secure: secure(req),
        });
      },
    };
  };

  const onError: NonNullable<FastifyTRPCPluginOptions<typeof appRouter>["trpcOptions"]["onError"]> = ({
    error,
    path,
    req,
  }) => {
    if (error.code === "INTERNAL_SERVER_ERROR")
      req.log.error({ err: error.cause ?? error, path }, "procedure failed");
  };

  // A refused subscription must be a real 401/403: tRPC answers SSE requests
  // with 200 before the procedure (and its role check) runs, and sends the
  // refusal inside the stream, which HTTP clients and proxies take for success.
  const subscriptions = new Map(
    listProcedures()
      .filter((p) => p.type === "subscription")
      .map((p) => [p.path, p.role] as const),
  );
  app.addHook("preHandler", async (request) => {
    const match = /^\/trpc\/([^?/]+)/.exec(request.url);
    const role = match ? subscriptions.get(match[1]!) : undefined;
    if (!role) return;
    // Throws the refusal, which the error handler answers in tRPC's envelope.
    await authorizeRequest({ db: options.db, request, sessionPolicy: options.sessionPolicy, role });
  });

  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: { router: appRouter, createContext, onError, maxBatchSize: 50 },
  });

  await app.register(
    async (rest) => {
      rest.get("/openapi.json", () =>
        describeErrorsInOpenApi(
          generateOpenApiDocument(appRouter, {
            title: "Tapfleet API",
            version: options.version,
            baseUrl: "/api/v1",
            securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
            paths: { ...DOWNLOAD_OPENAPI_PATHS, ...POD_LOG_OPENAPI_PATHS },
          }),
        ),
      );
      // The REST adapter sends errors in a shape of its own; each one is noted
      // here and answered in the one REST shape by the onSend hook below.
      const restAnswers = new WeakMap<object, ErrorAnswer>();
      const restOnError: Parameters<typeof fastifyTRPCOpenApiPlugin>[1]["onError"] = (details) => {
        // Same logging as tRPC's; the adapter's onError is typed for any router.
        onError(details as unknown as Parameters<typeof onError>[0]);
        restAnswers.set(details.req as FastifyRequest, answerForError(details.error));
      };
      rest.addHook("onSend", async (request, reply, payload) => {
        const answer = restAnswers.get(request);
        if (!answer) return payload;
        if (answer.retryAfterSeconds !== undefined)
          void reply.header("retry-after", String(answer.retryAfterSeconds));
        void reply.status(answer.status);
        return JSON.stringify(restErrorBody(answer, request.id));
      });
      await rest.register(fastifyTRPCOpenApiPlugin, {
        router: appRouter,
        createContext,
        onError: restOnError,
        basePath: "/",
      });
    },
    { prefix: "/api/v1" },
  );

  await registerIngestRoutes(app, {
    gateway: options.gateway,
    bareEndpoint: options.benchBareEndpoint ?? false,
  });
  await registerActionRoutes(app, {
    db: options.db,
    bus: options.bus,
    gateway: options.gateway,
    sessionPolicy: options.sessionPolicy,
  });

  // Binary downloads do not fit the JSON REST surface; same credentials and roles.
  // Declared in the OpenAPI document by DOWNLOAD_OPENAPI_PATHS, with these schemas.
  app.get("/api/v1/sensors/:id/pcap", async (request, reply) => {
    await authorizeRequest({
      db: options.db,
      request,
      sessionPolicy: options.sessionPolicy,
      role: "viewer",
    });
    const { id } = ZSensorPcapParamsSchema.parse(request.params);
    const query = ZSensorPcapQuerySchema.parse(request.query);
    // A sensor without chunks is NOT_FOUND, answered like every other error.
    const pcap = await readSensorPcap({ db: options.db, sensorId: id, interface: query.interface });
    return reply
      .header("content-type", PCAP_MEDIA_TYPE)
      .header("content-disposition", `attachment; filename="sensor-${id}.pcap"`)
      .header("x-tapfleet-packets", String(pcap.packets))
      .header("x-tapfleet-skipped-chunks", String(pcap.skippedChunks))
      .send(pcap.file);
  });

  // A pod's log as text for CI (not followed); declared by POD_LOG_OPENAPI_PATHS.
  app.get("/api/v1/clusters/:id/pods/:namespace/:name/log", async (request, reply) => {
    await authorizeRequest({ db: options.db, request, sessionPolicy: options.sessionPolicy, role: "viewer" });
    const params = ZPodLogParamsSchema.parse(request.params);
    const query = ZPodLogQuerySchema.parse(request.query);
    let text = "";
    // Refusals (no connection, unreachable, unknown pod) come before any line, answered like every other error.
    for await (const line of readClusterPodLog({
      db: options.db,
      secrets: options.secrets,
      clusterId: params.id,
      namespace: params.namespace,
      pod: params.name,
      container: query.container,
      tail: query.tail ?? POD_LOG_DEFAULT_TAIL,
      previous: query.previous ?? false,
      follow: false,
    }))
      text += `${line}\n`;
    return reply.header("content-type", "text/plain; charset=utf-8").send(text);
  });

  app.get("/healthz", () => ({ status: "ok", leader: options.isLeader?.() ?? false }));
  app.get("/readyz", async (_request, reply) => {
    if (options.isShuttingDown?.()) return reply.status(503).send({ status: "shutting down" });
    try {
      await checkDatabaseConnection({ url: options.databaseUrl, timeoutMs: 2000 });
      return { status: "ready" };
    } catch (error) {
      return reply.status(503).send({ status: "unavailable", reason: (error as Error).message });
    }
  });
  app.get("/metrics", async (_request, reply) => {
    void reply.header("content-type", options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });

  if (options.dashboard) {
    const dashboard = options.dashboard;
    app.all("/*", { helmet: DASHBOARD_HELMET_OPTIONS }, async (request, reply) => {
      passNonceToDashboard(request, reply);
      reply.hijack();
      await dashboard.handle(request.raw, reply.raw);
    });
  }
  return app;
}
