// Objects tests build again and again, built in one place. Exported as
// `@tapfleet/kube-sim/testing`; never used by the simulator itself.

import type { KubeObject } from "../types.ts";

type Json = Record<string, unknown>;

export interface DaemonSetFixtureOptions {
  /** The DaemonSet's name, also the `app` label its selector and pod template use. Default `agent`. */
  name?: string;
  /** Default `default`. */
  namespace?: string;
  /** Default `tapfleet/agent:1`. */
  image?: string;
  /** The one container's name. Default `agent`. */
  containerName?: string;
  /** The container's env, when it has one. */
  env?: Json[];
  /** DaemonSet spec fields (updateStrategy, minReadySeconds, …), over the defaults. */
  spec?: Json;
  /** Pod template spec fields (hostNetwork, tolerations, …), over the defaults. */
  podSpec?: Json;
}

/** A sensor-like DaemonSet: one container, selected by its `app` label. */
export function daemonSetFixture(options: DaemonSetFixtureOptions = {}): KubeObject {
  const name = options.name ?? "agent";
  const container: Json = {
    name: options.containerName ?? "agent",
    image: options.image ?? "tapfleet/agent:1",
  };
  if (options.env) container.env = options.env;
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: options.namespace ?? "default" },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [container], ...options.podSpec },
      },
      ...options.spec,
    },
  };
}
