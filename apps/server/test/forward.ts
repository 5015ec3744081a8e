// Hands an HTTP request to a test server, as its own listener would answer it: the demo's
// HTTPS ingest listener routes into the app, and a demo test runs it beside a TestServer.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";

/** A request handler that forwards to the server at `url()` (read per request: set in beforeAll). */
export function forwardTo(url: () => string) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const target = new URL(url());
    const forwarded = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on("error", () => response.destroy());
    request.pipe(forwarded);
  };
}
