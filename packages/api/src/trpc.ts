import {
  AppError,
  APP_ERROR_CODES,
  authorize,
  describeAuditTarget,
  isAppError,
  recordAuditEvent,
  type Actor,
  type AuditChange,
  type Role,
} from "@tapfleet/core";
import { initTRPC, TRPCError } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import type { ApiContext } from "./context.ts";
import { answerForError } from "./errors.ts";

export interface ProcedureMeta extends OpenApiMeta {
  /** The smallest role that may call the procedure; absent means public. */
  role?: Role;
  /** Names the object a mutation acts on, for the audit log. */
  auditTarget?: (input: unknown) => string | undefined;
}

const t = initTRPC
  .context<ApiContext>()
  .meta<ProcedureMeta>()
  .create({
    // One answer for every error (errors.ts); tRPC clients get it in tRPC's envelope.
    errorFormatter({ shape, error }) {
      const answer = answerForError(error);
      return {
        ...shape,
        message: answer.message,
        data: {
          code: shape.data.code,
          httpStatus: answer.status,
          path: shape.data.path,
          appCode: answer.code,
          retryAfterSeconds: answer.retryAfterSeconds ?? null,
          zodError: answer.fieldErrors ? { fieldErrors: answer.fieldErrors } : null,
        },
      };
    },
  });

export function toTRPCError(error: AppError): TRPCError {
  return new TRPCError({ code: APP_ERROR_CODES[error.code].trpc, message: error.userMessage, cause: error });
}

function targetOf(input: unknown, meta: ProcedureMeta | undefined): string | undefined {
  if (meta?.auditTarget) return meta.auditTarget(input);
  if (input && typeof input === "object") {
    const record = input as Record<string, unknown>;
    for (const key of ["id", "username", "name"]) if (typeof record[key] === "string") return record[key];
  }
  return undefined;
}

/**
 * What a procedure adds to its audit event: what it changed, or the target
 * when the input does not name it. Filled in by the procedure, read by the
 * audit middleware once it has run.
 */
export interface AuditNotes {
  changes?: AuditChange[];
  target?: string;
  /** Whom to name when it differs from the caller (after a sign-in, the user who signed in). */
  actor?: Actor;
}

/**
 * Turns AppErrors into tRPC errors with the right status, and writes one
 * audit event for every mutation, successful or not.
 */
const errorsAndAudit = t.middleware(async ({ ctx, type, path, meta, next, getRawInput }) => {
  const auditNotes: AuditNotes = {};
  // Named before the call, so an object the call deletes is still named in its event.
  const inputTarget =
    type === "mutation" ? targetOf(await getRawInput().catch(() => undefined), meta) : undefined;
  const nameOf = (target: string | undefined) =>
    target ? describeAuditTarget({ db: ctx.db, target }).catch(() => null) : null;
  let targetName = await nameOf(inputTarget);
  const result = await next({ ctx: { auditNotes } });
  if (!inputTarget && auditNotes.target) targetName = await nameOf(auditNotes.target);
  let error = result.ok ? undefined : result.error;
  if (error && isAppError(error.cause)) error = toTRPCError(error.cause);
  if (type === "mutation") {
    const input = await getRawInput().catch(() => undefined);
    const actor = auditNotes.actor ?? ctx.actor;
    const claimedName =
      actor.type === "anonymous" && input && typeof input === "object" && "username" in input
        ? String(input.username).slice(0, 64)
        : undefined;
    // Recording publishes the event on the live audit topic too.
    await recordAuditEvent({
      db: ctx.db,
      bus: ctx.bus,
      actor,
      action: path,
      target: inputTarget ?? auditNotes.target,
      targetName,
      ip: ctx.origin.ip,
      outcome: error ? "failure" : "success",
      errorCode: error ? (isAppError(error.cause) ? error.cause.code : error.code) : null,
      message: error ? answerForError(error).message : null,
      changes: error ? undefined : auditNotes.changes,
      detail: input,
      claimedName,
    });
  }
  if (error) throw error;
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Credentials that were sent and refused (a malformed, unknown, expired or
 * revoked token) are answered with 401 everywhere, public procedures
 * included: a caller must learn that its token is bad, not be served as
 * anonymous.
 */
const refuseBadCredentials = t.middleware(({ ctx, next }) => {
  if (ctx.authError) throw toTRPCError(ctx.authError);
  return next();
});

/**
 * Procedures that must arrive one per HTTP request. A batch would let one
 * request run many sign-in attempts side by side; refusing the whole batch
 * (every call in it, not only these) keeps one attempt per request.
 */
export const UNBATCHABLE_PROCEDURES: ReadonlySet<string> = new Set(["auth.login"]);

const refuseUnbatchable = t.middleware(({ ctx, next }) => {
  const refused = ctx.batchPaths?.filter((path) => UNBATCHABLE_PROCEDURES.has(path)) ?? [];
  if (refused.length > 0) {
    throw toTRPCError(
      new AppError("INVALID_INPUT", {
        userMessage: `${[...new Set(refused)].join(", ")} cannot be sent in a tRPC batch; send it as a request of its own.`,
      }),
    );
  }
  return next();
});

/** No credentials needed. */
export const publicProcedure = t.procedure
  .use(errorsAndAudit)
  .use(refuseUnbatchable)
  .use(refuseBadCredentials);

/**
 * Ends a live stream with the refusal once `check` throws: the caller's
 * rights are checked again every `everyMs` while the stream is open, so a
 * demoted or disabled owner, or a revoked token, stops receiving.
 */
export async function* endWhenRefused<T>(
  source: AsyncIterable<T>,
  options: { everyMs: number; check: () => Promise<void> },
): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let refuse: (error: unknown) => void = () => undefined;
  const refused = new Promise<never>((_resolve, reject) => {
    refuse = reject;
  });
  refused.catch(() => undefined); // Read by the race below.
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    options.check().then(() => {
      checking = false;
    }, refuse);
  }, options.everyMs);
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), refused]);
      if (next.done) return;
      yield next.value;
    }
  } catch (error) {
    throw isAppError(error) ? toTRPCError(error) : error;
  } finally {
    clearInterval(timer);
    // The source ends by itself once the request's signal aborts; do not wait for it here.
    iterator.return?.().catch(() => undefined);
  }
}

function requireRole(role: Role) {
  return t.middleware(async ({ ctx, type, next }) => {
    let actor;
    try {
      actor = authorize({ actor: ctx.actor, authError: ctx.authError, role });
    } catch (error) {
      throw isAppError(error) ? toTRPCError(error) : error;
    }
    const result = await next({ ctx: { ...ctx, actor } });
    if (type !== "subscription" || !result.ok || !isAsyncIterable(result.data)) return result;
    const check = async () => {
      const again = await ctx.reauthenticate();
      authorize({ actor: again.actor, authError: again.authError, role });
    };
    return { ...result, data: endWhenRefused(result.data, { everyMs: ctx.liveRecheckMs, check }) };
  });
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

export const viewerProcedure = publicProcedure.meta({ role: "viewer" }).use(requireRole("viewer"));
export const operatorProcedure = publicProcedure.meta({ role: "operator" }).use(requireRole("operator"));
export const adminProcedure = publicProcedure.meta({ role: "admin" }).use(requireRole("admin"));
