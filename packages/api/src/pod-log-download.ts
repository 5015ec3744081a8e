// GET /clusters/{id}/pods/{namespace}/{name}/log: a pod's log as text for CI,
// served by the server's own route (a procedure answers JSON), declared here
// with the schemas the server validates with, from the same rules as the
// `kube.podLog` subscription.
import {
  POD_LOG_DEFAULT_TAIL,
  ZKubeContainerNameSchema,
  ZKubeNamespaceSchema,
  ZKubeObjectNameSchema,
  ZPodLogTailSchema,
} from "@tapfleet/core";
import { ZClusterIdSchema } from "@tapfleet/sensor/accounts";
import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";

/** Path parameters. */
export const ZPodLogParamsSchema = z.object({
  id: ZClusterIdSchema.meta({ description: "The cluster's id." }),
  namespace: ZKubeNamespaceSchema.meta({ description: "The pod's namespace." }),
  name: ZKubeObjectNameSchema.meta({ description: "The pod's name." }),
});

/** Query parameters (strings on the wire). */
export const ZPodLogQuerySchema = z.object({
  tail: z
    .string()
    .regex(/^\d+$/, "must be a whole number of lines")
    .transform(Number)
    .pipe(ZPodLogTailSchema)
    .optional()
    .meta({ description: `Only the last lines (default ${POD_LOG_DEFAULT_TAIL}).` }),
  previous: z
    .enum(["true", "false"], { error: "must be true or false" })
    .transform((value) => value === "true")
    .optional()
    .meta({ description: "The container's previous run, before its last restart." }),
  container: ZKubeContainerNameSchema.optional().meta({
    description: "The container; needed only when the pod has several.",
  }),
});

/** The log route, for the OpenAPI document (paths relative to /api/v1). */
export const POD_LOG_OPENAPI_PATHS: ZodOpenApiPathsObject = {
  "/clusters/{id}/pods/{namespace}/{name}/log": {
    get: {
      operationId: "kube-readPodLog",
      summary: "Read a pod's log",
      description:
        "The last lines of a container's log, as text (not followed; the dashboard follows it live over the kube.podLog subscription). Needs the viewer role. A cluster without a Kubernetes connection is 409, an unreachable one 503 with the reason, an unknown pod 404.",
      tags: ["inventory"],
      security: [{ bearer: [] }],
      requestParams: { path: ZPodLogParamsSchema, query: ZPodLogQuerySchema },
      responses: {
        200: {
          description: "The log lines, one per line.",
          content: { "text/plain": { schema: { type: "string" } } },
        },
        400: { description: "Invalid input" },
        401: { description: "Authorization not provided" },
        403: { description: "Insufficient access" },
        404: { description: "Not found" },
        409: { description: "The cluster has no Kubernetes connection" },
        500: { description: "Internal server error" },
        503: { description: "The cluster is unreachable" },
      },
    },
  },
};
