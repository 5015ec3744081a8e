import type { RouterOutputs } from "@/lib/trpc";

type DaemonSetRow = RouterOutputs["kube"]["podStatus"]["daemonSets"][number];

/** What the node page says about the node's agent, from its sensor pods' rows in the inventory. */
export type NodeAgentSummary =
  | { kind: "reporting"; sensorId: string; lastSeenAt: string; text: string }
  | { kind: "silent"; sensorId: string; lastSeenAt: string; text: string }
  | { kind: "none"; text: string };

/**
 * The node's agent as the inventory joins it (cluster, node and pod name): a covered row's agent
 * reports; another row's agent that has reported before has stopped (its sensor page keeps its
 * history); no agent at all is a node whose pod never got one running.
 */
export function summarizeNodeAgent(daemonSets: readonly DaemonSetRow[]): NodeAgentSummary {
  const covered = daemonSets.find((row) => row.state === "covered" && row.sensor);
  if (covered?.sensor)
    return {
      kind: "reporting",
      sensorId: covered.sensor.id,
      lastSeenAt: covered.sensor.lastSeenAt,
      text: "Its agent reports: the sensor's page has its live charts. Below, its sensor pod as the cluster has it now, with its log and events.",
    };
  const seen = daemonSets
    .map((row) => row.sensor)
    .filter((sensor) => sensor !== null)
    .sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt))[0];
  if (seen)
    return {
      kind: "silent",
      sensorId: seen.id,
      lastSeenAt: seen.lastSeenAt,
      text: "Its agent has reported before but is not reporting now: its sensor pod as the cluster has it now, with its log and events.",
    };
  return {
    kind: "none",
    text: "No agent has reported from this node yet: its sensor pod as the cluster has it now, with its log and events.",
  };
}
