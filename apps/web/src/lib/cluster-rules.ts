// Cluster ids become Kubernetes-style names in the agent's Secret and in URLs: the server's DNS
// label rule, run here with the same schema before sending.
import { ZClusterIdSchema } from "@tapfleet/sensor/accounts";
import { firstProblem } from "./account-rules";

export const clusterIdLabel = "Cluster ID";

export function validateClusterId(id: string): string | null {
  return firstProblem(clusterIdLabel, ZClusterIdSchema, id);
}
