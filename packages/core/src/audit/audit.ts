import type { Db, LiveBus, Outcome, Prisma } from "@tapfleet/db";
import { z } from "zod";
import type { Actor } from "../actor.ts";
import { defineTopic, publishTopic, subscribeTopic } from "../live/topics.ts";

/** One field of an existing object that an action changed. */
export interface AuditChange {
  field: string;
  from: string | number | boolean | null;
  to: string | number | boolean | null;
}

export interface AuditEventView {
  id: string;
  at: Date;
  actorType: "user" | "token" | "system" | "anonymous";
  actorName: string;
  action: string;
  target: string | null;
  /** The target's name when `target` is an id, as it was when the event was recorded. */
  targetName: string | null;
  ip: string | null;
  outcome: Outcome;
  errorCode: string | null;
  /** What the caller was told when the action failed. */
  message: string | null;
  changes: AuditChange[];
  /** The request's input, secrets redacted. */
  detail: unknown;
}

/** An audit event as the API and the live stream send it (dates as ISO strings). */
export const ZAuditEventSchema = z.object({
  id: z.string(),
  at: z.string(),
  actorType: z.enum(["user", "token", "system", "anonymous"]),
  actorName: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  /** The target's name when `target` is an id, as it was at the time. */
  targetName: z.string().nullable(),
  ip: z.string().nullable(),
  outcome: z.enum(["success", "failure"]),
  errorCode: z.string().nullable(),
  /** What the caller was told, for a failure. */
  message: z.string().nullable(),
  /** Fields of an existing object the action changed (`role: viewer → operator`). */
  changes: z.array(
    z.object({
      field: z.string(),
      from: z.union([z.string(), z.number(), z.boolean()]).nullable(),
      to: z.union([z.string(), z.number(), z.boolean()]).nullable(),
    }),
  ),
  /** The request's input, with passwords, keys and tokens redacted. */
  detail: z.json().nullable(),
});
export type AuditEventOutput = z.infer<typeof ZAuditEventSchema>;

/** Every audit event, as it is recorded, wherever it is recorded. */
export const AUDIT_TOPIC = defineTopic("audit", ZAuditEventSchema);

export function serializeAuditEvent(event: AuditEventView): AuditEventOutput {
  // Core hands back the stored JSON (already redacted); it is JSON by construction.
  return {
    ...event,
    at: event.at.toISOString(),
    detail: (event.detail ?? null) as AuditEventOutput["detail"],
  };
}

/** A live notification holds under 8 kB: a larger event goes out without its detail (the log keeps it). */
const MAX_LIVE_EVENT_CHARS = 6000;

const SECRET_KEY = /pass(word)?|secret|token|key|cookie|authorization|kubeconfig/i;

/** A copy of `value` fit for the audit log: secret-looking fields masked, strings and depth bounded. */
export function redactForAudit(value: unknown, depth = 0): unknown {
  if (depth > 4) return "…";
  if (typeof value === "string") return value.length > 200 ? value.slice(0, 200) + "…" : value;
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => redactForAudit(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) ? "[redacted]" : redactForAudit(v, depth + 1),
      ]),
    );
  }
  return value;
}

/**
 * Writes one audit event and then publishes it on AUDIT_TOPIC, so live
 * viewers (on any replica) see it at once. A failed publish is reported to
 * the bus's log and does not fail the caller: a lost notification only delays
 * viewers until their next page load.
 */
export async function recordAuditEvent(options: {
  db: Db;
  bus: LiveBus;
  actor: Actor | { type: "system"; name: string };
  /** What was done, as `area.verb` (the tRPC path for API calls). */
  action: string;
  target?: string | null | undefined;
  ip?: string | null | undefined;
  outcome: Outcome;
  errorCode?: string | null | undefined;
  /** The target's name, when `target` is an id (see describeAuditTarget). */
  targetName?: string | null | undefined;
  /** What the caller was told, for a failure. */
  message?: string | null | undefined;
  changes?: AuditChange[] | undefined;
  detail?: unknown;
  /** Used when the actor is anonymous but claimed a name (e.g. a failed login). */
  claimedName?: string | undefined;
}): Promise<AuditEventView> {
  const { actor } = options;
  const actorName =
    actor.type === "anonymous"
      ? options.claimedName
        ? `anonymous (${options.claimedName})`
        : "anonymous"
      : actor.name;
  const row = await options.db.auditEvent.create({
    data: {
      actorType: actor.type,
      actorId: "id" in actor ? actor.id : null,
      actorName: actorName.slice(0, 200),
      action: options.action,
      target: options.target?.slice(0, 500) ?? null,
      targetName: options.targetName?.slice(0, 500) ?? null,
      ip: options.ip ?? null,
      outcome: options.outcome,
      errorCode: options.errorCode ?? null,
      message: options.message?.slice(0, 2000) ?? null,
      changes: options.changes?.length
        ? (redactForAudit(options.changes) as Prisma.InputJsonValue)
        : undefined,
      detail:
        options.detail === undefined ? undefined : (redactForAudit(options.detail) as Prisma.InputJsonValue),
    },
  });
  const event = toAuditEventView(row);
  const live = serializeAuditEvent(event);
  await publishTopic(
    options.bus,
    AUDIT_TOPIC,
    JSON.stringify(live).length < MAX_LIVE_EVENT_CHARS ? live : { ...live, detail: null },
  ).catch((error: unknown) =>
    options.bus.reportError(new Error("publishing an audit event live failed", { cause: error })),
  );
  return event;
}

type AuditEventRow = Omit<AuditEventView, "id" | "changes" | "detail"> & {
  id: bigint;
  changes: Prisma.JsonValue;
  detail: Prisma.JsonValue;
};

function toAuditEventView(row: AuditEventRow): AuditEventView {
  return {
    id: row.id.toString(),
    at: row.at,
    actorType: row.actorType,
    actorName: row.actorName,
    action: row.action,
    target: row.target,
    targetName: row.targetName,
    ip: row.ip,
    outcome: row.outcome,
    errorCode: row.errorCode,
    message: row.message,
    changes: Array.isArray(row.changes) ? (row.changes as unknown as AuditChange[]) : [],
    // Stored redacted; redacting again also covers events recorded before a key became secret-looking.
    detail: redactForAudit(row.detail ?? null),
  };
}

/**
 * What is different between `before` and `after`, field by field, for the
 * fields an action may change. Secret fields must not be passed.
 */
export function diffForAudit<T extends object>(
  before: T,
  after: T,
  fields: readonly (keyof T & string)[],
): AuditChange[] {
  const value = (v: unknown): AuditChange["from"] =>
    typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : null;
  return fields
    .filter((field) => before[field] !== after[field])
    .map((field) => ({ field, from: value(before[field]), to: value(after[field]) }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A readable name for the object an action targets: a user's name for a user
 * id, a token's name for a token id, "node (cluster)" for a sensor id, a
 * cluster's display name for a cluster id. Null when there is nothing better
 * than the target itself. Call it before the action runs, so a deleted
 * object is still named.
 */
export async function describeAuditTarget(options: { db: Db; target: string }): Promise<string | null> {
  const { db, target } = options;
  if (UUID.test(target)) {
    const [user, token, sensor, profile] = await Promise.all([
      db.user.findUnique({ where: { id: target }, select: { username: true } }),
      db.apiToken.findUnique({ where: { id: target }, select: { name: true } }),
      db.sensor.findUnique({ where: { id: target }, select: { nodeName: true, clusterId: true } }),
      db.profile.findUnique({ where: { id: target }, select: { name: true } }),
    ]);
    if (user) return user.username;
    if (token) return `token “${token.name}”`;
    if (sensor) return `sensor on ${sensor.nodeName} (${sensor.clusterId})`;
    if (profile) return `profile ${profile.name}`;
    return null;
  }
  const cluster = await db.cluster.findUnique({ where: { id: target }, select: { displayName: true } });
  return cluster?.displayName ? `cluster ${cluster.displayName}` : null;
}

/** Newest first, keyset-paginated by id. */
export async function listAuditEvents(options: {
  db: Db;
  cursor?: string | undefined;
  limit: number;
  action?: string | undefined;
  actor?: string | undefined;
  outcome?: Outcome | undefined;
}): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
  const where: Prisma.AuditEventWhereInput = {
    ...(options.cursor ? { id: { lt: BigInt(options.cursor) } } : {}),
    ...(options.action ? { action: options.action } : {}),
    ...(options.actor ? { actorName: { contains: options.actor, mode: "insensitive" } } : {}),
    ...(options.outcome ? { outcome: options.outcome } : {}),
  };
  const rows = await options.db.auditEvent.findMany({
    where,
    orderBy: { id: "desc" },
    take: options.limit + 1,
  });
  const page = rows.slice(0, options.limit);
  return {
    items: page.map(toAuditEventView),
    nextCursor: rows.length > options.limit ? page[page.length - 1]!.id.toString() : null,
  };
}

/** Events recorded after `afterId`, oldest first: what a live viewer missed. */
export async function listAuditEventsAfter(options: {
  db: Db;
  afterId: string;
  limit?: number;
}): Promise<AuditEventView[]> {
  const rows = await options.db.auditEvent.findMany({
    where: { id: { gt: BigInt(options.afterId) } },
    orderBy: { id: "asc" },
    take: options.limit ?? 500,
  });
  return rows.map(toAuditEventView);
}

/**
 * How long a live stream waits for a missing event id before it passes over
 * it. Ids come from a sequence when a row is inserted, so an event can commit
 * (and be announced) before one with a smaller id that is still being written,
 * on this replica or another; an id whose insert failed never comes.
 */
export const AUDIT_GAP_WAIT_MS = 2000;

/**
 * Audit events recorded after `afterId` (or, without it, from now on), each
 * exactly once and in id order, until `signal` aborts. The live topic only
 * wakes the stream: the database says what there is, so an event announced
 * out of order, or whose announcement was lost, is still delivered in its
 * place. A gap in the ids is waited for (up to `gapWaitMs`) before the events
 * after it are sent, so that the event filling it is not skipped; a client
 * that resumes from the last id it saw misses nothing.
 */
export async function* streamAuditEvents(options: {
  db: Db;
  bus: LiveBus;
  afterId?: string | null | undefined;
  signal?: AbortSignal | undefined;
  gapWaitMs?: number | undefined;
  /** Events read from the database at a time. */
  batchSize?: number | undefined;
}): AsyncGenerator<AuditEventView> {
  const gapWaitMs = options.gapWaitMs ?? AUDIT_GAP_WAIT_MS;
  const batchSize = options.batchSize ?? 500;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  let announcements = 0;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    wake?.();
    wake = undefined;
  };
  stop.signal.addEventListener("abort", wakeUp, { once: true });
  // Subscribed before the first read, so nothing recorded in between goes unannounced.
  const topic = subscribeTopic(options.bus, AUDIT_TOPIC, stop.signal);
  const listening = (async () => {
    for await (const _event of topic) {
      announcements += 1;
      wakeUp();
    }
  })();
  try {
    let last = options.afterId
      ? BigInt(options.afterId)
      : ((await options.db.auditEvent.findFirst({ orderBy: { id: "desc" }, select: { id: true } }))?.id ??
        0n);
    let gapSeenAt: number | null = null;
    while (!stop.signal.aborted) {
      const announcedBefore = announcements;
      const rows = await listAuditEventsAfter({ db: options.db, afterId: last.toString(), limit: batchSize });
      let waitingForGap = false;
      for (const event of rows) {
        const id = BigInt(event.id);
        if (id !== last + 1n) {
          gapSeenAt ??= Date.now();
          if (Date.now() - gapSeenAt < gapWaitMs) {
            waitingForGap = true;
            break;
          }
        }
        gapSeenAt = null;
        last = id;
        yield event;
        if (stop.signal.aborted) return;
      }
      if (announcements !== announcedBefore || (!waitingForGap && rows.length === batchSize)) continue;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (stop.signal.aborted) wakeUp();
        if (waitingForGap) timer = setTimeout(wakeUp, gapWaitMs - (Date.now() - gapSeenAt!));
      });
      clearTimeout(timer);
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    stop.abort();
    await listening.catch(() => undefined);
  }
}

/** Every action recorded so far, sorted: what the audit log's action filter offers. */
export async function listAuditActions(options: { db: Db }): Promise<string[]> {
  // GROUP BY in SQL, over the action index (Prisma's `distinct` would fetch every row).
  const rows = await options.db.auditEvent.groupBy({ by: ["action"], orderBy: { action: "asc" } });
  return rows.map((row) => row.action);
}
