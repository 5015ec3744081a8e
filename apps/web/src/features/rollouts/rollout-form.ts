// The rollout form's text fields as the API takes them. Only the shape is read here; whether a
// value is allowed is the server's schema's call (core's ZRolloutStrategySchema), shown at the field.

/** "2" → 2, "25%" → "25%": a DaemonSet's maxUnavailable or maxSurge as typed. */
export function readPodCount(text: string): number | string {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}
