// Merging a live audit event into the page of the audit log on screen: a pure reducer for
// `useLiveQuery`, tested without a server. Only the newest page moves, and only with events that
// the server's filters would have returned for it.
import type { RouterInputs, RouterOutputs } from "@/lib/trpc";
import type { LiveReducer } from "@/lib/use-live-query";

type AuditPage = RouterOutputs["audit"]["list"];
type AuditEvent = AuditPage["items"][number];
type AuditView = Pick<RouterInputs["audit"]["list"], "cursor" | "action" | "actor" | "outcome"> & {
  limit: number;
};
/** What `audit.live` sends: the event, tracked by its id so a reconnect resumes after it. */
export interface LiveAuditEvent {
  id: string;
  data: AuditEvent;
}

/** The same filters `audit.list` applies: action exactly, actor name containing the text in any case, outcome. */
export function matchesAuditView(event: AuditEvent, view: AuditView): boolean {
  if (view.action && event.action !== view.action) return false;
  if (view.actor && !event.actorName.toLowerCase().includes(view.actor.toLowerCase())) return false;
  if (view.outcome && event.outcome !== view.outcome) return false;
  return true;
}

// Ids are decimal strings of a growing sequence, beyond what a double holds exactly.
const newerFirst = (a: AuditEvent, b: AuditEvent) => {
  const difference = BigInt(b.id) - BigInt(a.id);
  return difference > 0n ? 1 : difference < 0n ? -1 : 0;
};

export function applyLiveAuditEvent(view: AuditView): LiveReducer<AuditPage, LiveAuditEvent> {
  return (page, { data: event }) => {
    // An older page stays as it was read: new events belong on the first one.
    if (view.cursor !== undefined) return page;
    if (!matchesAuditView(event, view)) return page;
    if (page.items.some((item) => item.id === event.id)) return page;
    const sorted = [...page.items, event].sort(newerFirst);
    if (sorted.length <= view.limit) return { ...page, items: sorted };
    // One event falls off the end of the page: it is now the first of the next one.
    const items = sorted.slice(0, view.limit);
    const last = items[items.length - 1];
    // A new event older than all a full page holds belongs further down: leave the page.
    if (last === undefined || items.every((item, index) => item === page.items[index])) return page;
    return { items, nextCursor: last.id };
  };
}
