import { AppError } from "@tapfleet/core";
import { z } from "zod";
import type { ApiContext, DemoStatusView } from "../context.ts";
import { adminProcedure, router } from "../trpc.ts";

export const ZDemoStatusSchema = z.object({
  /** "unavailable": this server process has no demo launcher. */
  state: z.enum(["unavailable", "stopped", "starting", "running", "stopping", "failed"]),
  traffic: z.enum(["network-namespaces", "pcap-replay"]).nullable(),
  clusters: z.array(
    z.object({
      id: z.string(),
      displayName: z.string(),
      nodes: z.number().int(),
      /** The simulated cluster's kubeconfig on the server's disk (mode 0600), for kubectl there. */
      kubeconfigFile: z.string(),
      /** `kubectl --kubeconfig <file> -n tapfleet-sensor get pods`, ready to copy. */
      kubectlCommand: z.string(),
    }),
  ),
  trouble: z.array(
    z.object({
      clusterId: z.string(),
      nodeName: z.string(),
      kind: z.enum(["excluded-by-taint", "crash-looping", "silent"]),
    }),
  ),
  startedAt: z.string().nullable(),
  error: z.string().nullable(),
});

const serialize = (status: DemoStatusView): z.infer<typeof ZDemoStatusSchema> => ({
  ...status,
  startedAt: status.startedAt ? status.startedAt.toISOString() : null,
});

function requireDemo(ctx: ApiContext) {
  if (!ctx.demo)
    throw new AppError("UNAVAILABLE", { userMessage: "This server process has no demo launcher." });
  return ctx.demo;
}

export const demoRouter = router({
  /** Whether the demo runs, its clusters, and where its agents' packets come from. */
  status: adminProcedure
    .meta({
      openapi: { method: "GET", path: "/demo", summary: "The demo's state", tags: ["demo"], protect: true },
    })
    .input(z.object({}).optional())
    .output(ZDemoStatusSchema)
    .query(({ ctx }) =>
      ctx.demo
        ? serialize(ctx.demo.status())
        : {
            state: "unavailable" as const,
            traffic: null,
            clusters: [],
            trouble: [],
            startedAt: null,
            error: null,
          },
    ),

  /** Starts two simulated clusters with the sensor installed and connected; answers once they run. */
  start: adminProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/demo/start",
        summary: "Start the demo",
        tags: ["demo"],
        protect: true,
      },
    })
    .input(z.object({}).optional())
    .output(ZDemoStatusSchema)
    .mutation(async ({ ctx }) => serialize(await requireDemo(ctx).start())),

  /** Stops the demo and removes everything it made (clusters, sensors, reports, processes, namespaces). */
  stop: adminProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/demo/stop",
        summary: "Stop the demo",
        tags: ["demo"],
        protect: true,
      },
    })
    .input(z.object({}).optional())
    .output(ZDemoStatusSchema)
    .mutation(async ({ ctx }) => serialize(await requireDemo(ctx).stop())),
});
