// Rates with SI prefixes, as charts and legends show them: "1.25 Mbit/s", "340 pkt/s".

const PREFIXES = [
  { factor: 1e12, prefix: "T" },
  { factor: 1e9, prefix: "G" },
  { factor: 1e6, prefix: "M" },
  { factor: 1e3, prefix: "k" },
] as const;

/** `value` with an SI prefix and `unit`, three significant digits at most; "–" for no value. */
export function formatRate(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const magnitude = Math.abs(value);
  const scale = PREFIXES.find((p) => magnitude >= p.factor);
  const scaled = scale ? value / scale.factor : value;
  const digits = Math.abs(scaled) >= 100 || scaled === 0 ? 0 : Math.abs(scaled) >= 10 ? 1 : 2;
  const text = Number(scaled.toFixed(digits)).toString();
  return `${text} ${scale?.prefix ?? ""}${unit}`;
}

/** The last point of a series that has a value (a chart legend's reading without the cursor), or null. */
export function latestValue(values: ArrayLike<number | null | undefined> | undefined): number | null {
  if (!values) return null;
  for (let index = values.length - 1; index >= 0; index--) {
    const value = values[index];
    if (value !== null && value !== undefined) return value;
  }
  return null;
}
