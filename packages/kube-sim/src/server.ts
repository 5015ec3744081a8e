// The simulated API server: a plain Node HTTP server on loopback speaking the
// Kubernetes REST protocol closely enough that kubectl and client libraries
// cannot tell it from a real one (see docs in /work/shared/design/kube-sim.md).

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { RESOURCES, resourceName, type ResourceInfo } from "./resources.ts";
import type { SimObjectStore } from "./store.ts";
import { AppliedConfigurations, handleResource, verbOf } from "./http/api.ts";
import {
  handleSelfSubjectAccessReview,
  SELF_SUBJECT_ACCESS_REVIEW_PATH,
  TokenAuthorization,
  type SimTokenSpec,
} from "./http/authorization.ts";
import {
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  KUBERNETES_VERSION,
} from "./http/discovery.ts";
import { Faults, type FaultControls } from "./http/faults.ts";
import { ListSnapshots } from "./http/list-snapshots.ts";
import type { LogSource } from "./http/logs.ts";
import { openApiDocument, openApiIndex } from "./http/openapi.ts";
import { failure, methodNotAllowed, sendError, sendJson } from "./http/respond.ts";
import { RequestRecorder, type RequestLog } from "./http/request-log.ts";
import { parseRoute } from "./http/router.ts";
import { servingCertificate } from "./http/tls.ts";
import { WatchHub } from "./http/watch.ts";

export interface ApiServerOptions {
  store: SimObjectStore;
  /** Bearer token every request must carry. */
  token: string;
  /** Container logs for `pods/<name>/log`. */
  logs?: LogSource | undefined;
  /**
   * Serve HTTPS with a self-signed certificate (default true). kubectl sends
   * credentials only over TLS. With `tls: false` the server acts like the old
   * insecure port: requests without an Authorization header are served, a wrong
   * token is still a 401.
   */
  tls?: boolean | undefined;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number | undefined;
  /** Resource types served; default: all the store knows. */
  resources?: readonly ResourceInfo[] | undefined;
  /** BOOKMARK interval for watches that allow them. Default 5 s (client-node gives up after 30 s of silence). */
  bookmarkIntervalMs?: number | undefined;
  /** Watch duration when the client sets no timeoutSeconds. Default 30 min, like the API server's minimum request timeout. */
  defaultWatchTimeoutSeconds?: number | undefined;
}

export interface ApiServer {
  /** `https://127.0.0.1:<port>` (or http:// with `tls: false`) */
  url: string;
  /** The PEM CA certificate clients must trust; undefined without TLS. */
  caCertificate: string | undefined;
  port: number;
  faults: FaultControls;
  /** Records the requests answered, on demand (tests read which calls a client makes). */
  requestLog: RequestLog;
  /** Accepts another bearer token, limited to its permission set (see http/authorization.ts). */
  addToken(spec: SimTokenSpec): void;
  /** Makes an added token answer 401 from now on. */
  expireToken(token: string): void;
  /** Ends open watches and connections, then stops listening. */
  close(): Promise<void>;
}

/** Starts the HTTP server for one simulated cluster. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { store, token } = options;
  const resources = options.resources ?? RESOURCES;
  const tls = options.tls ?? true;
  const watches = new WatchHub(store, {
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 5_000,
    defaultTimeoutSeconds: options.defaultWatchTimeoutSeconds ?? 1_800,
  });
  const snapshots = new ListSnapshots();
  const faults = new Faults(store, watches, () => snapshots.clear());
  const applied = new AppliedConfigurations();
  const stopForgetting = store.subscribe((event) => {
    if (event.type === "DELETED") applied.forget(event.object.metadata.uid);
  });
  let serverAddress = "127.0.0.1:0";
  const requestLog = new RequestRecorder();
  const authorization = new TokenAuthorization(token);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    requestLog.seen(req.method ?? "GET", url);
    // Every path needs a token, /version and /healthz included: a real cluster serves those
    // anonymously, but kubectl (and the version-probing kubectl dispatcher) always sends the token.
    const identity = authorization.authenticate(req.headers.authorization, tls);
    if (url.pathname === SELF_SUBJECT_ACCESS_REVIEW_PATH)
      return handleSelfSubjectAccessReview(authorization, identity, req, res);

    const route = parseRoute(url.pathname, resources);
    const method = req.method ?? "GET";
    if (route.type !== "resource" && method !== "GET" && method !== "HEAD") {
      if (route.type === "notFound") return sendNotFoundText(res);
      throw methodNotAllowed();
    }
    const notServed = (): never => {
      throw failure(404, "NotFound", "the server could not find the requested resource", {});
    };

    switch (route.type) {
      case "version":
        return sendJson(res, 200, KUBERNETES_VERSION);
      case "health":
        res.writeHead(200, {
          "Content-Type": "text/plain; charset=utf-8",
          "X-Content-Type-Options": "nosniff",
        });
        res.end("ok");
        return;
      case "api":
        return sendJson(res, 200, apiVersions(serverAddress));
      case "apis":
        return sendJson(res, 200, apiGroupList(resources));
      case "group":
        return sendJson(res, 200, apiGroupDocument(resources, route.group) ?? notServed());
      case "groupVersion":
        return sendJson(res, 200, apiResourceList(resources, route.group, route.version) ?? notServed());
      case "openapiIndex":
        return sendJson(res, 200, openApiIndex(resources));
      case "openapiDocument":
        return sendJson(res, 200, openApiDocument(resources, route.group, route.version) ?? notServed());
      case "openapiV2":
      case "notFound":
        return sendNotFoundText(res);
      case "apiNotFound":
        return notServed();
      case "resource": {
        const verb = verbOf(method, route, url.searchParams);
        if (verb !== undefined) {
          authorization.authorize(identity, {
            verb,
            resource: route.info.plural,
            group: route.info.group,
            subresource: route.subresource,
            namespace: route.namespace,
            name: route.name,
          });
          const facts = { verb, resource: resourceName(route.info) };
          const delay = faults.latencyFor(facts);
          if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
          const injected = faults.failureFor(facts);
          if (injected) throw injected;
        }
        await handleResource(
          { store, watches, logs: options.logs, applied, snapshots },
          req,
          res,
          route,
          url.searchParams,
        );
        return;
      }
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => sendError(res, error));
  };
  const certificate = tls ? await servingCertificate() : undefined;
  const server = certificate
    ? createHttpsServer({ cert: certificate.cert, key: certificate.key }, listener)
    : createHttpServer(listener);
  // Every connection, also one still in its TLS handshake (which closeAllConnections does not
  // know of yet): close() ends them all, as a stopping API server does.
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  // Watches are long-lived; never let Node time them out underneath the client.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  serverAddress = `127.0.0.1:${port}`;

  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    caCertificate: certificate?.cert,
    port,
    faults,
    requestLog,
    addToken: (spec) => authorization.addToken(spec),
    expireToken: (token) => authorization.expireToken(token),
    async close() {
      stopForgetting();
      watches.dropAll("close");
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

function sendNotFoundText(res: ServerResponse): void {
  res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
  res.end("404 page not found\n");
}
