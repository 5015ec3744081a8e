// The HTTP application: one Fastify instance serving tRPC, the REST API, the
// health and metrics endpoints and, by default, the dashboard.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import fastifyCookie from "@fastify/cookie";
import { appRouter, type ApiContext } from "@tapfleet/api";
import { listProcedures } from "@tapfleet/api/procedures";
import {
  AppError,
  readSensorPcap,
  roleAtLeast,
  SIGN_IN_MESSAGE,
  type IngestGateway,
  type SecretBox,
  type SessionPolicy,
} from "@tapfleet/core";
import { checkDatabaseConnection, type Db, type LiveBus } from "@tapfleet/db";
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import Fastify, {
  type FastifyHttpOptions,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { Logger } from "pino";
import { fastifyTRPCOpenApiPlugin, generateOpenApiDocument } from "trpc-to-openapi";
import { registerActionRoutes } from "./action-routes.ts";
import { authenticateRequest, SESSION_COOKIE } from "./auth.ts";
import { registerCrossOriginGuard } from "./cross-origin-guard.ts";
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
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 500 },
  } as FastifyHttpOptions<Server, Logger>;
  const app = Fastify(serverOptions);

  await app.register(fastifyCookie);
  await registerSecurityHeaders(app);

  app.addHook("onRequest", async (request, reply) => {
    void reply.header("x-request-id", request.id);
  });
  registerCrossOriginGuard(app);
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    options.metrics.httpRequests
      .labels(request.method, route.startsWith("/trpc") ? "/trpc" : route, String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });

  // Errors Fastify raises itself (malformed JSON, oversized bodies, bad content types)
  // get the same JSON shape as API errors, with a message that says what is wrong.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, "request failed");
    const message =
      error.code === "FST_ERR_CTP_BODY_TOO_LARGE"
        ? `Request body is larger than the limit of ${options.bodyLimit} bytes.`
        : error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError
          ? `Request body is not valid JSON: ${error.message}`
          : status >= 500
            ? "Internal server error."
            : error.message;
    void reply
      .status(status)
      .send({ error: { status, code: error.code ?? "ERROR", message, requestId: request.id } });
  });

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
    const { actor, authError } = await authenticateRequest({
      db: options.db,
      request: req,
      sessionPolicy: options.sessionPolicy,
    });
    return {
      db: options.db,
      bus: options.bus,
      secrets: options.secrets,
      ingest: options.gateway,
      actor,
      authError,
      origin: { ip: req.ip, userAgent: req.headers["user-agent"] },
      requestId: req.id,
      batchPaths: info?.isBatchCall ? info.calls.map((call) => call.path) : undefined,
      log: req.log,
      system: { version: options.version, database: options.databaseKind },
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
  app.addHook("preHandler", async (request, reply) => {
    const match = /^\/trpc\/([^?/]+)/.exec(request.url);
    if (!match || !subscriptions.has(match[1]!)) return;
    const role = subscriptions.get(match[1]!);
    if (!role) return;
    const { actor, authError } = await authenticateRequest({
      db: options.db,
      request,
      sessionPolicy: options.sessionPolicy,
    });
    const refusal =
      authError?.userMessage ??
      (actor.type === "anonymous"
        ? SIGN_IN_MESSAGE
        : roleAtLeast(actor.role, role)
          ? undefined
          : `This needs the ${role} role; you have ${actor.role}.`);
    if (!refusal) return;
    const status = actor.type === "anonymous" ? 401 : 403;
    const code = status === 401 ? "UNAUTHORIZED" : "FORBIDDEN";
    await reply.status(status).send({
      error: {
        message: refusal,
        code: status === 401 ? -32001 : -32003,
        data: {
          code,
          httpStatus: status,
          path: match[1],
          appCode: status === 401 ? "UNAUTHENTICATED" : "FORBIDDEN",
        },
      },
    });
  });

  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: { router: appRouter, createContext, onError, maxBatchSize: 50 },
  });

  await app.register(
    async (rest) => {
      rest.get("/openapi.json", () =>
        generateOpenApiDocument(appRouter, {
          title: "Tapfleet API",
          version: options.version,
          baseUrl: "/api/v1",
          securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
        }),
      );
      // The REST adapter's onError is typed for any router; ours is the same function.
      const restOnError = onError as unknown as Parameters<typeof fastifyTRPCOpenApiPlugin>[1]["onError"];
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
  app.get<{ Params: { id: string }; Querystring: { interface?: string } }>(
    "/api/v1/sensors/:id/pcap",
    async (request, reply) => {
      const { actor, authError } = await authenticateRequest({
        db: options.db,
        request,
        sessionPolicy: options.sessionPolicy,
      });
      if (authError || actor.type === "anonymous") {
        return reply.status(401).send({
          error: {
            message: authError?.userMessage ?? SIGN_IN_MESSAGE,
          },
        });
      }
      if (!/^[0-9a-f-]{36}$/.test(request.params.id)) {
        return reply.status(400).send({ error: { message: "id: must be a sensor id (UUID)" } });
      }
      const iface = request.query.interface;
      if (iface !== undefined && !/^[A-Za-z0-9._@:-]{1,15}$/.test(iface)) {
        return reply
          .status(400)
          .send({ error: { message: "interface: must be an interface name (1–15 characters)" } });
      }
      try {
        const pcap = await readSensorPcap({ db: options.db, sensorId: request.params.id, interface: iface });
        return reply
          .header("content-type", "application/vnd.tcpdump.pcap")
          .header("content-disposition", `attachment; filename="sensor-${request.params.id}.pcap"`)
          .header("x-tapfleet-packets", String(pcap.packets))
          .header("x-tapfleet-skipped-chunks", String(pcap.skippedChunks))
          .send(pcap.file);
      } catch (error) {
        if (error instanceof AppError && error.code === "NOT_FOUND")
          return reply.status(404).send({ error: { message: error.userMessage } });
        throw error;
      }
    },
  );

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
