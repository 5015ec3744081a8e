import {
  getNodePodStatus,
  listKubeObjectEvents,
  readClusterPodLog,
  ZKubeEventsInputSchema,
  ZKubeEventViewSchema,
  ZNodePodStatusSchema,
  ZPodLogInputSchema,
  ZPodStatusInputSchema,
  type PodLogMessage,
} from "@tapfleet/core";
import { z } from "zod";
import { router, viewerProcedure } from "../trpc.ts";

/**
 * A sensor's Kubernetes side, read from its cluster on demand through the
 * stored connection. A cluster without a connection is 409, an unreachable
 * one 503 with the reason, an unknown node or pod 404.
 */
export const kubeDetailRouter = router({
  /** A node's sensor coverage with each sensor pod as the cluster has it now (phase, restarts, last termination, image). */
  podStatus: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/clusters/{clusterId}/nodes/{nodeName}",
        summary: "A node's sensor pods: coverage, phase, readiness, restarts, last termination and image",
        tags: ["inventory"],
        protect: true,
      },
    })
    .input(ZPodStatusInputSchema)
    .output(ZNodePodStatusSchema)
    .query(({ ctx, input }) => getNodePodStatus({ db: ctx.db, secrets: ctx.secrets, ...input })),

  /** Events about a DaemonSet, a pod or a node, newest first. */
  events: viewerProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/clusters/{clusterId}/events",
        summary: "Kubernetes events of a DaemonSet, pod or node, newest first",
        tags: ["inventory"],
        protect: true,
      },
    })
    .input(ZKubeEventsInputSchema)
    .output(z.object({ items: z.array(ZKubeEventViewSchema) }))
    .query(async ({ ctx, input }) => ({
      items: await listKubeObjectEvents({ db: ctx.db, secrets: ctx.secrets, ...input }),
    })),

  /**
   * A pod's log followed live, over SSE: the tail, then each new line, then
   * `end` when the container exits. The request to the cluster ends when the
   * client goes away. CI reads the log without following at
   * GET /api/v1/clusters/{id}/pods/{namespace}/{name}/log (text/plain).
   */
  podLog: viewerProcedure.input(ZPodLogInputSchema).subscription(async function* ({
    ctx,
    input,
    signal,
  }): AsyncGenerator<PodLogMessage> {
    const lines = readClusterPodLog({ db: ctx.db, secrets: ctx.secrets, ...input, follow: true, signal });
    for await (const line of lines) yield { type: "line", line };
    if (!signal?.aborted) yield { type: "end" };
  }),
});
