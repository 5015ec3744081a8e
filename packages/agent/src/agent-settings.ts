// Reads the agent's settings once, at start, from the environment, through
// the sensor contract (`parseSensorEnv`) so that the agent accepts exactly
// what the dashboard validates and the manifests render. The agent adds one
// requirement of its own: a cluster id, because every request is signed
// under a key id (defaulting to the cluster id) and every report names it.

import os from "node:os";
import { computeConfigHash } from "@tapfleet/sensor/config-hash";
import {
  parseSensorEnv,
  resolveSensorSettings,
  type ResolvedSensorSettings,
  type SensorEnv,
  type SensorSettings,
} from "@tapfleet/sensor/settings";

export const AGENT_VERSION = "0.1.0";

export interface AgentSettings {
  settings: SensorSettings;
  resolved: ResolvedSensorSettings & { keyId: string; clusterId: string };
  configHash: string;
  nodeName: string;
  podName: string;
  warnings: string[];
}

export type LoadAgentSettingsResult = { ok: true; value: AgentSettings } | { ok: false; line: string };

/**
 * Parses and checks the environment. On failure returns one line naming
 * every offending variable: Kubernetes shows the last lines of a crashed
 * container, and one line is what survives a crash loop's `kubectl logs`.
 */
export function loadAgentSettings(
  env: SensorEnv,
  hostname: () => string = os.hostname,
): LoadAgentSettingsResult {
  const parsed = parseSensorEnv(env);
  if (!parsed.ok) {
    return { ok: false, line: `invalid settings: ${parsed.errors.map((error) => error.message).join("; ")}` };
  }
  const resolved = resolveSensorSettings(parsed.settings);
  if (resolved.clusterId === undefined || resolved.keyId === undefined) {
    return {
      ok: false,
      line: "invalid settings: TAPFLEET_CLUSTER_ID: is required by tapfleet-agent (it names the cluster in every report and is the default key id)",
    };
  }
  const nodeName = nonEmpty(env.TAPFLEET_NODE_NAME) ?? hostname();
  const podName = nonEmpty(env.TAPFLEET_POD_NAME) ?? hostname();
  return {
    ok: true,
    value: {
      settings: parsed.settings,
      resolved: { ...resolved, clusterId: resolved.clusterId, keyId: resolved.keyId },
      configHash: computeConfigHash(parsed.settings),
      nodeName,
      podName,
      warnings: parsed.warnings,
    },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
