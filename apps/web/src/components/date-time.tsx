import { formatDateTime, formatRelative } from "@/lib/format";

/**
 * A moment in the dashboard's one date style (see lib/format.ts). `relative` is for recency
 * ("last used", "last seen"): it reads "3 minutes ago" and keeps the absolute date, with its
 * zone, one hover away in the title.
 */
export function DateTime({ iso, relative = false, now }: { iso: string; relative?: boolean; now?: Date }) {
  const absolute = formatDateTime(iso);
  return (
    <time dateTime={iso} title={relative ? absolute : undefined}>
      {relative ? formatRelative(iso, now) : absolute}
    </time>
  );
}
