// API errors as the real API server sends them: a `Status` object with the exact
// message, reason, details and code that kubectl and client libraries parse.
// Message formats follow k8s.io/apimachinery/pkg/api/errors.

export type StatusReason =
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Invalid"
  | "BadRequest"
  | "Expired"
  | "Unauthorized"
  | "Forbidden"
  | "TooManyRequests"
  | "InternalError"
  | "MethodNotAllowed"
  | "Timeout";

export interface StatusCause {
  /** `FieldValueInvalid`, `FieldValueRequired`, … (Go's CauseType, serialised as `reason`). */
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusObject {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** Thrown by the store and controllers; the HTTP layer sends `status` as the body with `status.code`. */
export class ApiError extends Error {
  readonly status: StatusObject;

  constructor(status: StatusObject) {
    super(status.message);
    this.name = "ApiError";
    this.status = status;
  }

  get code(): number {
    return this.status.code;
  }

  get reason(): StatusReason {
    return this.status.reason;
  }
}

export function isApiError(err: unknown, reason?: StatusReason): err is ApiError {
  return err instanceof ApiError && (reason === undefined || err.status.reason === reason);
}

function failure(code: number, reason: StatusReason, message: string, details?: StatusDetails): ApiError {
  // Key order as the API server serialises a Status.
  const status: StatusObject =
    details === undefined
      ? { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code }
      : { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, details, code };
  return new ApiError(status);
}

/**
 * A group-qualified resource as the API prints it: `pods`, `daemonsets.apps`.
 * `group` is `""` for the core group.
 */
export interface QualifiedResource {
  group: string;
  resource: string;
}

function qualifiedString(r: QualifiedResource): string {
  return r.group === "" ? r.resource : `${r.resource}.${r.group}`;
}

/** Details for resource-level errors; Go omits an empty group. */
function resourceDetails(r: QualifiedResource, name: string): StatusDetails {
  const details: StatusDetails = { name };
  if (r.group !== "") details.group = r.group;
  details.kind = r.resource;
  return details;
}

/** 404 `daemonsets.apps "x" not found`. */
export function notFound(r: QualifiedResource, name: string): ApiError {
  return failure(404, "NotFound", `${qualifiedString(r)} "${name}" not found`, resourceDetails(r, name));
}

/** 404 for an unknown path or resource type: the generic message the API server uses. */
export function resourceTypeNotFound(): ApiError {
  return failure(404, "NotFound", "the server could not find the requested resource", {});
}

/** 409 `daemonsets.apps "x" already exists`. */
export function alreadyExists(r: QualifiedResource, name: string): ApiError {
  return failure(
    409,
    "AlreadyExists",
    `${qualifiedString(r)} "${name}" already exists`,
    resourceDetails(r, name),
  );
}

export const CONFLICT_MODIFIED =
  "the object has been modified; please apply your changes to the latest version and try again";

/** 409 `Operation cannot be fulfilled on daemonsets.apps "x": <reason>`; reason defaults to the stale-resourceVersion text. */
export function conflict(r: QualifiedResource, name: string, reason: string = CONFLICT_MODIFIED): ApiError {
  return failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedString(r)} "${name}": ${reason}`,
    resourceDetails(r, name),
  );
}

/** One field error, as in k8s.io/apimachinery/pkg/util/validation/field. */
export interface FieldError {
  type:
    | "FieldValueInvalid"
    | "FieldValueRequired"
    | "FieldValueNotSupported"
    | "FieldValueForbidden"
    | "FieldValueDuplicate"
    | "FieldValueTooLong";
  field: string;
  /** The value, printed as Go's %#v would for strings/numbers; omitted for Required/Forbidden. */
  value?: unknown;
  detail: string;
}

const TYPE_TEXT: Record<FieldError["type"], string> = {
  FieldValueInvalid: "Invalid value",
  FieldValueRequired: "Required value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueDuplicate: "Duplicate value",
  FieldValueTooLong: "Too long",
};

/** Go's field.Error.ErrorBody(). */
function fieldErrorBody(e: FieldError): string {
  const head = TYPE_TEXT[e.type];
  if (
    e.type === "FieldValueRequired" ||
    e.type === "FieldValueForbidden" ||
    e.type === "FieldValueTooLong" ||
    e.value === undefined
  ) {
    return e.detail === "" ? head : `${head}: ${e.detail}`;
  }
  const value =
    typeof e.value === "string"
      ? JSON.stringify(e.value)
      : typeof e.value === "number" || typeof e.value === "boolean"
        ? String(e.value)
        : JSON.stringify(e.value);
  return e.detail === "" ? `${head}: ${value}` : `${head}: ${value}: ${e.detail}`;
}

/**
 * 422 `DaemonSet.apps "x" is invalid: metadata.name: Invalid value: …`, with one
 * cause per field error. `kind` is the Kind (not the resource), as in NewInvalid.
 */
export function invalid(
  groupKind: { group: string; kind: string },
  name: string,
  errors: FieldError[],
): ApiError {
  const qualifiedKind = groupKind.group === "" ? groupKind.kind : `${groupKind.kind}.${groupKind.group}`;
  const texts = errors.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
  const aggregate =
    texts.length === 0 ? "" : texts.length === 1 ? `: ${texts[0]}` : `: [${texts.join(", ")}]`;
  const details: StatusDetails = { name };
  if (groupKind.group !== "") details.group = groupKind.group;
  details.kind = groupKind.kind;
  details.causes = errors.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }));
  return failure(422, "Invalid", `${qualifiedKind} "${name}" is invalid${aggregate}`, details);
}

/** 403 `namespaces "default" is forbidden: <reason>`. */
export function forbidden(r: QualifiedResource, name: string, reason: string): ApiError {
  return failure(
    403,
    "Forbidden",
    `${qualifiedString(r)} "${name}" is forbidden: ${reason}`,
    resourceDetails(r, name),
  );
}

/** 400 with the given message and no details (NewBadRequest). */
export function badRequest(message: string): ApiError {
  return failure(400, "BadRequest", message);
}

/** 410 `too old resource version: N (M)`, sent as a watch ERROR event or a list error. */
export function expired(requested: string, oldestAvailable: string): ApiError {
  return failure(410, "Expired", `too old resource version: ${requested} (${oldestAvailable})`);
}

/** 401 as the authentication filter sends it. */
export function unauthorized(message = "Unauthorized"): ApiError {
  return failure(401, "Unauthorized", message);
}

/** 429 as the max-in-flight filter sends it, with `Retry-After` seconds in details. */
export function tooManyRequests(
  retryAfterSeconds = 1,
  message = "Too many requests, please try again later.",
): ApiError {
  return failure(429, "TooManyRequests", message, { retryAfterSeconds });
}

/** 500 `Internal error occurred: <message>`. */
export function internalError(message: string): ApiError {
  return failure(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] });
}

/** 405 `<action> is not supported on resources of kind "daemonsets.apps"`. */
export function methodNotSupported(r: QualifiedResource, action: string): ApiError {
  const details: StatusDetails = {};
  if (r.group !== "") details.group = r.group;
  details.kind = r.resource;
  return failure(
    405,
    "MethodNotAllowed",
    `${action} is not supported on resources of kind ${JSON.stringify(qualifiedString(r))}`,
    details,
  );
}
