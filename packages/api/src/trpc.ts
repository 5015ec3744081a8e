import {
  AppError,
  APP_ERROR_CODES,
  SIGN_IN_MESSAGE,
  describeAuditTarget,
  isAppError,
  recordAuditEvent,
  roleAtLeast,
  type Actor,
  type AuditChange,
  type Role,
} from "@tapfleet/core";
import { initTRPC, TRPCError } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import { z, ZodError } from "zod";
import type { ApiContext } from "./context.ts";

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
    errorFormatter({ shape, error }) {
      const appError = isAppError(error.cause) ? error.cause : undefined;
      const zodError = error.cause instanceof ZodError ? error.cause : undefined;
      const internal = error.code === "INTERNAL_SERVER_ERROR" && !appError;
      const fieldErrors = zodError
        ? z.flattenError(zodError).fieldErrors
        : appError?.field
          ? { [appError.field]: [appError.userMessage] }
          : undefined;
      return {
        ...shape,
        message: callerMessageOf(error),
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path,
          appCode:
            appError?.code ??
            (zodError ? "INVALID_INPUT" : internal ? "INTERNAL" : trpcToAppCode(error.code)),
          retryAfterSeconds: appError?.retryAfterSeconds ?? null,
          zodError: fieldErrors ? { fieldErrors } : null,
        },
      };
    },
  });

/** What the caller is told about an error: the answer's message, and the audit log's. */
function callerMessageOf(error: TRPCError): string {
  const appError = isAppError(error.cause) ? error.cause : undefined;
  // Internal errors keep their detail in the server log, not in the answer.
  if (error.code === "INTERNAL_SERVER_ERROR" && !appError) return "Internal server error.";
  if (error.cause instanceof ZodError) return describeZodError(error.cause);
  if (error.code === "PARSE_ERROR") return `Request body is not valid JSON: ${error.message}`;
  if (appError) return appError.field ? `${appError.field}: ${appError.userMessage}` : appError.userMessage;
  return error.message;
}

/** "username: too short; role: invalid option" — names each field and what is wrong. */
function describeZodError(error: ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "input"}: ${issue.message}`)
    .join("; ");
}

function trpcToAppCode(code: TRPCError["code"]): string {
  const found = Object.entries(APP_ERROR_CODES).find(([, v]) => v.trpc === code);
  return found ? found[0] : code;
}

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
      message: error ? callerMessageOf(error) : null,
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

function requireRole(role: Role) {
  return t.middleware(({ ctx, next }) => {
    if (ctx.authError) throw toTRPCError(ctx.authError);
    if (ctx.actor.type === "anonymous") {
      throw new TRPCError({
        code: "UNAUTHORIZED",
        message: SIGN_IN_MESSAGE,
        cause: new AppError("UNAUTHENTICATED", {
          userMessage: SIGN_IN_MESSAGE,
        }),
      });
    }
    if (!roleAtLeast(ctx.actor.role, role)) {
      throw new TRPCError({
        code: "FORBIDDEN",
        message: `This needs the ${role} role; you have ${ctx.actor.role}.`,
        cause: new AppError("FORBIDDEN", {
          userMessage: `This needs the ${role} role; you have ${ctx.actor.role}.`,
        }),
      });
    }
    return next({ ctx: { ...ctx, actor: ctx.actor } });
  });
}

export const viewerProcedure = publicProcedure.meta({ role: "viewer" }).use(requireRole("viewer"));
export const operatorProcedure = publicProcedure.meta({ role: "operator" }).use(requireRole("operator"));
export const adminProcedure = publicProcedure.meta({ role: "admin" }).use(requireRole("admin"));
