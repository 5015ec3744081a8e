import type { Db, Outcome, Prisma } from "@tapfleet/db";
import type { Actor } from "../actor.ts";

export interface AuditEventView {
  id: string;
  at: Date;
  actorType: "user" | "token" | "system" | "anonymous";
  actorName: string;
  action: string;
  target: string | null;
  ip: string | null;
  outcome: Outcome;
  errorCode: string | null;
}

const SECRET_KEY = /pass(word)?|secret|token|key|cookie|authorization/i;

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

export async function recordAuditEvent(options: {
  db: Db;
  actor: Actor | { type: "system"; name: string };
  /** What was done, as `area.verb` (the tRPC path for API calls). */
  action: string;
  target?: string | null | undefined;
  ip?: string | null | undefined;
  outcome: Outcome;
  errorCode?: string | null | undefined;
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
      ip: options.ip ?? null,
      outcome: options.outcome,
      errorCode: options.errorCode ?? null,
      detail:
        options.detail === undefined ? undefined : (redactForAudit(options.detail) as Prisma.InputJsonValue),
    },
  });
  return toAuditEventView(row);
}

function toAuditEventView(row: Omit<AuditEventView, "id"> & { id: bigint }): AuditEventView {
  return {
    id: row.id.toString(),
    at: row.at,
    actorType: row.actorType,
    actorName: row.actorName,
    action: row.action,
    target: row.target,
    ip: row.ip,
    outcome: row.outcome,
    errorCode: row.errorCode,
  };
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
    ...(options.action ? { action: { contains: options.action, mode: "insensitive" } } : {}),
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
