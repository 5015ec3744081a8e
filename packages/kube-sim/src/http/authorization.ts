// Who may do what: bearer tokens beyond the cluster's own (which may do
// everything), each with a small RBAC-like permission set. The request path
// answers an unknown or expired token with 401 and a request outside the set
// with the API server's 403 Status; SelfSubjectAccessReview answers from the
// same set, so a client's permission check and its requests agree.

import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, unauthorized, type ApiError } from "../errors.ts";
import { readBody } from "./body.ts";
import type { Verb } from "./faults.ts";
import { failure, sendJson } from "./respond.ts";

/** One rule: these verbs on these resources (`pods`, `daemonsets.apps`, `pods/log`, or `*`), in every namespace. */
export interface PermissionRule {
  verbs: ReadonlyArray<Verb | "*">;
  resources: readonly string[];
}

export interface SimTokenSpec {
  token: string;
  /** The user name the 403 messages and reviews name; default `system:serviceaccount:default:<first 6 chars>`. */
  user?: string | undefined;
  allow: readonly PermissionRule[];
  /** A token the server no longer accepts (401), as an expired ServiceAccount token is. */
  expired?: boolean | undefined;
  /** May create SelfSubjectAccessReviews (default true, as every authenticated user may). */
  selfReview?: boolean | undefined;
}

export interface Identity {
  user: string;
  /** `all` for the cluster's own token (and unauthenticated requests to a plain-HTTP server). */
  rules: readonly PermissionRule[] | "all";
  selfReview: boolean;
}

export interface ResourceAttributes {
  verb: string;
  /** Plural name without the group: `pods`, `daemonsets`. */
  resource: string;
  group: string;
  subresource?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
}

export const SELF_SUBJECT_ACCESS_REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

const ADMIN: Identity = { user: "kube-sim-admin", rules: "all", selfReview: true };

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function qualified(attributes: Pick<ResourceAttributes, "resource" | "group" | "subresource">): string {
  const base = attributes.group ? `${attributes.resource}.${attributes.group}` : attributes.resource;
  return attributes.subresource ? `${base}/${attributes.subresource}` : base;
}

function ruleAllows(rule: PermissionRule, verb: string, resource: string): boolean {
  const verbOk = rule.verbs.includes("*") || rule.verbs.includes(verb as Verb);
  const resourceOk = rule.resources.includes("*") || rule.resources.includes(resource);
  return verbOk && resourceOk;
}

/** The tokens one simulated API server accepts. */
export class TokenAuthorization {
  readonly #adminToken: string;
  readonly #tokens = new Map<string, SimTokenSpec>();

  constructor(adminToken: string) {
    this.#adminToken = adminToken;
  }

  addToken(spec: SimTokenSpec): void {
    if (!spec.token) throw new Error("a token must not be empty");
    this.#tokens.set(spec.token, spec);
  }

  /** Makes a token answer 401 from now on, as when a ServiceAccount token expires. */
  expireToken(token: string): void {
    const spec = this.#tokens.get(token);
    if (!spec) throw new Error("no such token");
    this.#tokens.set(token, { ...spec, expired: true });
  }

  /**
   * The caller behind an Authorization header. Without a header, a TLS server
   * refuses (401) and a plain-HTTP one serves as its old insecure port did.
   */
  authenticate(header: string | undefined, tls: boolean): Identity {
    if (header === undefined) {
      if (tls) throw unauthorized();
      return ADMIN;
    }
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match) throw unauthorized();
    const given = match[1]!;
    if (sameSecret(given, this.#adminToken)) return ADMIN;
    for (const [token, spec] of this.#tokens) {
      if (!sameSecret(given, token)) continue;
      if (spec.expired) throw unauthorized();
      return {
        user: spec.user ?? `system:serviceaccount:default:${token.slice(0, 6)}`,
        rules: spec.allow,
        selfReview: spec.selfReview ?? true,
      };
    }
    throw unauthorized();
  }

  allows(identity: Identity, attributes: ResourceAttributes): boolean {
    if (identity.rules === "all") return true;
    const resource = qualified(attributes);
    return identity.rules.some((rule) => ruleAllows(rule, attributes.verb, resource));
  }

  /** Throws the API server's 403 when the caller may not do this. */
  authorize(identity: Identity, attributes: ResourceAttributes): void {
    if (this.allows(identity, attributes)) return;
    throw forbiddenFor(identity, attributes);
  }
}

/** The RBAC authorizer's 403: `nodes is forbidden: User "x" cannot list resource "nodes" in API group "" at the cluster scope`. */
export function forbiddenFor(identity: Identity, attributes: ResourceAttributes): ApiError {
  const resource = attributes.subresource
    ? `${attributes.resource}/${attributes.subresource}`
    : attributes.resource;
  const subject = attributes.group ? `${attributes.resource}.${attributes.group}` : attributes.resource;
  const scope = attributes.namespace ? `in the namespace "${attributes.namespace}"` : "at the cluster scope";
  const named = attributes.name ? `${subject} "${attributes.name}"` : subject;
  return failure(
    403,
    "Forbidden",
    `${named} is forbidden: User "${identity.user}" cannot ${attributes.verb} resource "${resource}" in API group "${attributes.group}" ${scope}`,
    {
      ...(attributes.name ? { name: attributes.name } : {}),
      ...(attributes.group ? { group: attributes.group } : {}),
      kind: attributes.resource,
    },
  );
}

/** POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews: may the caller do what the review asks? */
export async function handleSelfSubjectAccessReview(
  authorization: TokenAuthorization,
  identity: Identity,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "POST") {
    throw failure(
      405,
      "MethodNotAllowed",
      "the server does not allow this method on the requested resource",
      {},
    );
  }
  if (!identity.selfReview) {
    throw forbiddenFor(identity, {
      verb: "create",
      resource: "selfsubjectaccessreviews",
      group: "authorization.k8s.io",
    });
  }
  let review: { spec?: { resourceAttributes?: Partial<Record<keyof ResourceAttributes, unknown>> } };
  try {
    review = JSON.parse(await readBody(req)) as typeof review;
  } catch {
    throw badRequest("the request body is not a JSON SelfSubjectAccessReview");
  }
  const asked = review?.spec?.resourceAttributes;
  if (!asked || typeof asked !== "object") {
    throw failure(
      422,
      "Invalid",
      'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
      { group: "authorization.k8s.io", kind: "SelfSubjectAccessReview" },
    );
  }
  const text = (value: unknown): string => (typeof value === "string" ? value : "");
  const attributes: ResourceAttributes = {
    verb: text(asked.verb),
    resource: text(asked.resource),
    group: text(asked.group),
    subresource: text(asked.subresource) || undefined,
    namespace: text(asked.namespace) || undefined,
    name: text(asked.name) || undefined,
  };
  const allowed = authorization.allows(identity, attributes);
  sendJson(res, 201, {
    kind: "SelfSubjectAccessReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: { creationTimestamp: null },
    spec: review.spec,
    status: allowed ? { allowed: true, reason: "allowed by kube-sim token rules" } : { allowed: false },
  });
}
