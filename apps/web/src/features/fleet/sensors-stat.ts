// The Fleet page's Sensors figure: agents that have reported, and whether every pod that should
// report does. A pod that is Ready but whose agent never reported is no sensor yet, so only the
// coverage's silent count knows it.

export interface SensorsStat {
  detail: string;
  attention: boolean;
}

export function describeSensorsStat(options: {
  /** Agents that have reported at least once. */
  reported: number;
  /** Of those, the ones whose reports stopped. */
  silentSensors: number;
  /** Nodes in the `silent` coverage state, whether their agent ever reported or not. */
  silentNodes: number;
}): SensorsStat {
  const { reported, silentSensors, silentNodes } = options;
  if (silentSensors > 0)
    return { detail: `${silentSensors} silent (no report for three intervals)`, attention: true };
  const neverReported = Math.max(0, silentNodes - silentSensors);
  if (reported === 0)
    return neverReported > 0
      ? { detail: `no agent has reported yet; ${podsAre(neverReported)} Ready but silent`, attention: true }
      : { detail: "no agent has reported yet", attention: false };
  if (neverReported > 0)
    return { detail: `all reporting; ${podsAre(neverReported, "more ")} Ready but silent`, attention: true };
  return { detail: "all reporting", attention: false };
}

function podsAre(count: number, more = ""): string {
  return count === 1 ? `1 ${more}pod is` : `${count} ${more}pods are`;
}
