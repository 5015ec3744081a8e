// The dashboard's one style for dates and numbers.
//
// Dates: one absolute format everywhere, always with its time zone, in the browser's zone:
// "5 Dec 2026, 14:03:12 UTC" (or "CET", "GMT-5"…). Day-month-year in words and a 24-hour
// clock read the same for every visitor, so the locale is fixed to en-GB; the zone is the
// browser's because that is where the reader is. Where recency matters more than the moment
// ("last used", "last seen"), a relative time ("3 minutes ago") is shown with the absolute one
// in a title attribute (see components/date-time.tsx).

const LOCALE = "en-GB";

const absoluteFormats = new Map<string, Intl.DateTimeFormat>();

function absoluteFormat(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? "";
  let format = absoluteFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(LOCALE, {
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
      timeZone,
    });
    absoluteFormats.set(key, format);
  }
  return format;
}

export interface DateFormatOptions {
  /** An IANA zone such as "Europe/Paris"; the browser's zone when absent. */
  timeZone?: string;
}

/** "5 Dec 2026, 14:03:12 UTC": the absolute date style, with the zone. "—" when there is no date. */
export function formatDateTime(iso: string | null | undefined, options: DateFormatOptions = {}): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return absoluteFormat(options.timeZone).format(date);
}

const tickFormats = new Map<string, Intl.DateTimeFormat>();
const tickParts = {
  seconds: { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" },
  minutes: { hour: "2-digit", minute: "2-digit", hourCycle: "h23" },
  day: { day: "numeric", month: "short" },
  month: { month: "short", year: "numeric" },
  dayKey: { year: "numeric", month: "numeric", day: "numeric" },
} satisfies Record<string, Intl.DateTimeFormatOptions>;

function tickFormat(kind: keyof typeof tickParts, timeZone: string | undefined): Intl.DateTimeFormat {
  const key = `${kind}/${timeZone ?? ""}`;
  let format = tickFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(LOCALE, { ...tickParts[kind], timeZone });
    tickFormats.set(key, format);
  }
  return format;
}

const DAY_SECONDS = 24 * 3600;

/**
 * A chart's time axis labels, in the absolute date style above: `ticks` in epoch seconds,
 * `stepSeconds` apart (uPlot's splits and increment). Steps under a day read as a 24-hour clock
 * ("14:03", "14:03:10" under a minute), with the day ("5 Dec") on a second line under the first
 * tick and wherever the day changes; steps of days read "5 Dec"; of months, "Dec 2026".
 */
export function formatTimeTicks(
  ticks: readonly number[],
  stepSeconds: number,
  options: DateFormatOptions = {},
): string[] {
  const at = (kind: keyof typeof tickParts, tick: number) =>
    tickFormat(kind, options.timeZone).format(new Date(tick * 1000));
  if (stepSeconds >= 28 * DAY_SECONDS) return ticks.map((tick) => at("month", tick));
  if (stepSeconds >= DAY_SECONDS) return ticks.map((tick) => at("day", tick));
  const clock = stepSeconds < 60 ? "seconds" : "minutes";
  return ticks.map((tick, index) => {
    const time = at(clock, tick);
    const newDay = index === 0 || at("dayKey", tick) !== at("dayKey", ticks[index - 1]!);
    return newDay ? `${time}\n${at("day", tick)}` : time;
  });
}

const relative = new Intl.RelativeTimeFormat(LOCALE, { numeric: "auto" });
const steps: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "3 days ago", "in 2 hours", "just now". Pair it with formatDateTime in a title. */
export function formatRelative(iso: string, now: Date = new Date()): string {
  const time = new Date(iso).getTime();
  if (Number.isNaN(time)) return iso;
  const seconds = Math.round((time - now.getTime()) / 1000);
  for (const [unit, size] of steps) {
    if (Math.abs(seconds) >= size) return relative.format(Math.trunc(seconds / size), unit);
  }
  return "just now";
}

/**
 * Times in logs (the audit log) use the same absolute style as every other date, so a
 * moment reads the same wherever it appears.
 */
export function formatLogTime(iso: string, options: DateFormatOptions = {}): string {
  return formatDateTime(iso, options);
}

const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });

/** 1234567 → "1.2M": counters from sensors grow large and only their size matters at a glance. */
export function formatCount(value: number): string {
  return compact.format(value);
}

const byteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${byteUnits[unit]}`;
}

/** 65_000 → "1 min 5 s", 3_720_000 → "1 h 2 min", 800 → "0 s": how long something took, to the second. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
  return `${seconds} s`;
}
