import client from "prom-client";

export interface ServerMetrics {
  registry: client.Registry;
  httpRequests: client.Histogram<"method" | "route" | "status">;
  /** 1 while this replica holds the leader lock and runs the leader's controllers. */
  leader: client.Gauge;
}

export function createMetrics(): ServerMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "tapfleet_" });
  const httpRequests = new client.Histogram({
    name: "tapfleet_http_request_duration_seconds",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const leader = new client.Gauge({
    name: "tapfleet_leader",
    help: "1 while this replica is the leader (runs the controllers that run once), else 0",
    registers: [registry],
  });
  return { registry, httpRequests, leader };
}
