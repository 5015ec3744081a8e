import { formatDateTime, formatRelative } from "@/lib/format";

/**
 * A moment in the dashboard's one date style (see lib/format.ts). `relative` is for recency
 * ("last used", "last seen"): it reads "3 minutes ago" and keeps the absolute date, with its
 * zone, one hover away in the title.
 */
export function DateTime({ iso, relative = false, now }: { iso: string; relative?: boolean; now?: Date }) {
  const absolute = formatDateTime(iso);
  return (
    // The server's render and the browser's hydration are seconds (and maybe time zones) apart: the
    // text the server wrote stays until the next render, which any live page has within seconds.
    <time dateTime={iso} title={relative ? absolute : undefined} suppressHydrationWarning>
      {relative ? formatRelative(iso, now) : absolute}
    </time>
  );
}
