import { DEBUG_LEVEL } from "@tapfleet/sensor/settings";

/**
 * A level as the card shows it. `null` is OSSENSOR_DEBUG absent from the
 * DaemonSet: the agent then runs at the contract's default, which is named
 * with its number ("1 (default)"), never the bare word.
 */
export function debugLevelLabel(level: number | null): string {
  return level === null ? `${DEBUG_LEVEL.default} (default)` : String(level);
}

/** The line under a level that is no longer pending: where the sensors are now, and since when. */
export function settledDebugLevelLine(view: {
  status: string;
  level: number;
  previousLevel: number | null;
  daemonSet: { namespace: string; name: string };
}): string {
  const where = `${view.daemonSet.namespace}/${view.daemonSet.name}`;
  if (view.status === "failed")
    return `Level ${view.level} on ${where} is no longer followed by Tapfleet; the reason is below.`;
  return `Back at level ${debugLevelLabel(view.previousLevel)} on ${where} after level ${view.level}.`;
}
