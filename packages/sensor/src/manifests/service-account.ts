import type { ObjectMeta, ServiceAccount } from "./types.ts";

/** The agent's identity. It opts out of automounting; the DaemonSet's pod opts in. */
export function renderServiceAccount(options: { metadata: ObjectMeta }): ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: options.metadata,
    automountServiceAccountToken: false,
  };
}
