// Expiry choices for a new token. Presets count from the moment of creation; a chosen date
// means "until the end of that day" in the browser's time zone, which is what people expect
// when they pick a day in a calendar.

export type ExpiryChoice = "never" | "7" | "30" | "90" | "date";

export const expiryOptions: { value: ExpiryChoice; label: string }[] = [
  { value: "30", label: "30 days" },
  { value: "7", label: "7 days" },
  { value: "90", label: "90 days" },
  { value: "never", label: "Never" },
  { value: "date", label: "On a date…" },
];

const dayMs = 24 * 60 * 60 * 1000;

/** `YYYY-MM-DD` of a local date, the format of `<input type="date">`. */
export function localDateString(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The ISO expiry to send, null for "never", or an error sentence for a bad date. */
export function expiryToIso(
  choice: ExpiryChoice,
  date: string,
  now: Date = new Date(),
): { iso: string | null } | { error: string } {
  if (choice === "never") return { iso: null };
  if (choice !== "date") return { iso: new Date(now.getTime() + Number(choice) * dayMs).toISOString() };
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return { error: "Pick the last day the token should work." };
  const endOfDay = new Date(`${date}T23:59:59.999`);
  if (Number.isNaN(endOfDay.getTime())) return { error: "Pick the last day the token should work." };
  if (endOfDay.getTime() <= now.getTime()) return { error: "Pick a day in the future." };
  return { iso: endOfDay.toISOString() };
}
