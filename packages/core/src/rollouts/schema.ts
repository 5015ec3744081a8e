// The rollout request and strategy: one definition for the API, the core and
// the dashboard's form.

import { ZClusterIdSchema } from "@tapfleet/sensor/accounts";
import { z } from "zod";

/** A DaemonSet's maxUnavailable or maxSurge: a number of pods, or a percentage of them ("25%"). */
export const ZPodCountSchema = z.union([
  z
    .number()
    .int("must be a whole number")
    .min(0, "must not be negative")
    .max(10_000, "must be at most 10000"),
  z
    .string()
    .regex(/^(100|[1-9]?[0-9])%$/, 'must be a whole number of pods, or a percentage from "0%" to "100%"'),
]);
export type PodCount = z.output<typeof ZPodCountSchema>;

const isZero = (count: PodCount) => count === 0 || count === "0%";

export const ZRolloutStrategySchema = z
  .object({
    /** Clusters changed first, as wave 0; each must be one of the rollout's clusters. */
    canaryClusterIds: z.array(ZClusterIdSchema).max(100).default([]),
    /** How many clusters change at once after the canaries. */
    waveSize: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(100, "must be at most 100")
      .default(1),
    /** Per DaemonSet: pods that may be unavailable at once during its rolling update. */
    maxUnavailable: ZPodCountSchema.default(1),
    /** Per DaemonSet: new pods started next to the old ones before those stop. */
    maxSurge: ZPodCountSchema.default(0),
    /** How long each cluster's health gate may take before it counts as failed. */
    gateSeconds: z
      .number()
      .int("must be a whole number")
      .min(10, "must be between 10 and 3600 seconds")
      .max(3600, "must be between 10 and 3600 seconds")
      .default(300),
  })
  .superRefine((strategy, ctx) => {
    if (isZero(strategy.maxUnavailable) && isZero(strategy.maxSurge))
      ctx.addIssue({
        code: "custom",
        path: ["maxUnavailable"],
        message: "may not be 0 when maxSurge is 0: the rolling update could never move",
      });
    if (new Set(strategy.canaryClusterIds).size !== strategy.canaryClusterIds.length)
      ctx.addIssue({ code: "custom", path: ["canaryClusterIds"], message: "must not name a cluster twice" });
  });
export type RolloutStrategy = z.output<typeof ZRolloutStrategySchema>;

export const ZStartRolloutSchema = z
  .object({
    profileId: z.uuid("must be a profile id"),
    revision: z.number().int("must be a whole number").min(1, "must be a revision number (1, 2, …)"),
    clusterIds: z
      .array(ZClusterIdSchema)
      .min(1, "must name at least one cluster")
      .max(500, "must name at most 500 clusters"),
    /** The image to run; absent: each DaemonSet keeps its own. */
    image: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .regex(/^\S+$/, "must be an image reference without spaces")
      .optional(),
    strategy: ZRolloutStrategySchema.default(ZRolloutStrategySchema.parse({})),
  })
  .superRefine((input, ctx) => {
    if (new Set(input.clusterIds).size !== input.clusterIds.length)
      ctx.addIssue({ code: "custom", path: ["clusterIds"], message: "must not name a cluster twice" });
    const targets = new Set(input.clusterIds);
    const stray = input.strategy.canaryClusterIds.filter((id) => !targets.has(id));
    if (stray.length > 0)
      ctx.addIssue({
        code: "custom",
        path: ["strategy", "canaryClusterIds"],
        message: `must be among clusterIds (not: ${stray.join(", ")})`,
      });
  });
export type StartRolloutInput = z.input<typeof ZStartRolloutSchema>;
export type StartRollout = z.output<typeof ZStartRolloutSchema>;

export const ROLLOUT_STATUSES = [
  "pending",
  "running",
  "paused",
  "aborting",
  "succeeded",
  "failed",
  "rolled-back",
  "aborted",
] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];
/** Still in the leader's hands. */
export const ACTIVE_ROLLOUT_STATUSES: readonly RolloutStatus[] = ["pending", "running", "paused", "aborting"];

export const ROLLOUT_CLUSTER_STATUSES = [
  "pending",
  "applying",
  "gating",
  "succeeded",
  "rolling-back",
  "rolled-back",
  "failed",
  "skipped",
] as const;
export type RolloutClusterStatus = (typeof ROLLOUT_CLUSTER_STATUSES)[number];
/** A cluster whose DaemonSet the rollout is changing now. */
export const IN_FLIGHT_CLUSTER_STATUSES: readonly RolloutClusterStatus[] = [
  "applying",
  "gating",
  "rolling-back",
];
export const FINAL_CLUSTER_STATUSES: readonly RolloutClusterStatus[] = [
  "succeeded",
  "rolled-back",
  "failed",
  "skipped",
];

/**
 * The waves of a rollout: the canaries as wave 0, then the other clusters in
 * the order given, `waveSize` at a time, as waves 1, 2, …
 */
export function planRolloutWaves(options: {
  clusterIds: readonly string[];
  strategy: Pick<RolloutStrategy, "canaryClusterIds" | "waveSize">;
}): Array<{ clusterId: string; wave: number; position: number }> {
  const canaries = new Set(options.strategy.canaryClusterIds);
  const ordered = [
    ...options.strategy.canaryClusterIds.map((clusterId) => ({ clusterId, wave: 0 })),
    ...options.clusterIds
      .filter((id) => !canaries.has(id))
      .map((clusterId, index) => ({ clusterId, wave: 1 + Math.floor(index / options.strategy.waveSize) })),
  ];
  return ordered.map((entry, position) => ({ ...entry, position }));
}
