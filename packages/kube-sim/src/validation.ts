// Validation that returns the field errors the real API server produces, for the
// cases clients are likely to hit: object names and the DaemonSet/Pod rules that
// a fleet manager can get wrong.

import { isDeepStrictEqual } from "node:util";
import type { FieldError } from "./errors.ts";
import type { KubeObject } from "./types.ts";
import { matchesLabelSelector, type LabelSelector } from "./selectors.ts";
import type { ResourceInfo } from "./resources.ts";

const DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const RE_LABEL = new RegExp(`^${DNS1123_LABEL}$`);
const RE_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN}$`);

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
// The double space after "'my-name'," is in the upstream message.
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** Messages as returned by IsDNS1123Subdomain / IsDNS1123Label / IsValidPathSegmentName. */
export function nameProblems(rule: ResourceInfo["nameRule"], name: string): string[] {
  const out: string[] = [];
  switch (rule) {
    case "subdomain":
      if (name.length > 253) out.push("must be no more than 253 characters");
      if (!RE_SUBDOMAIN.test(name)) out.push(SUBDOMAIN_MSG);
      break;
    case "label":
      if (name.length > 63) out.push("must be no more than 63 characters");
      if (!RE_LABEL.test(name)) out.push(LABEL_MSG);
      break;
    case "path-segment":
      if (name === "." || name === "..") out.push(`may not be '${name}'`);
      for (const bad of ["/", "%"]) if (name.includes(bad)) out.push(`may not contain '${bad}'`);
      break;
  }
  return out;
}

/** ValidateObjectMeta for the name. */
export function validateName(info: ResourceInfo, name: string | undefined): FieldError[] {
  if (name === undefined || name === "") {
    return [
      { type: "FieldValueRequired", field: "metadata.name", detail: "name or generateName is required" },
    ];
  }
  return nameProblems(info.nameRule, name).map((detail) => ({
    type: "FieldValueInvalid",
    field: "metadata.name",
    value: name,
    detail,
  }));
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function validateContainers(spec: Json, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    errors.push({ type: "FieldValueRequired", field: `${path}.containers`, detail: "" });
    return errors;
  }
  const seen = new Set<string>();
  containers.forEach((c: unknown, i) => {
    const container = obj(c) ?? {};
    const name = container.name;
    if (typeof name !== "string" || name === "") {
      errors.push({ type: "FieldValueRequired", field: `${path}.containers[${i}].name`, detail: "" });
    } else {
      if (!RE_LABEL.test(name))
        errors.push({
          type: "FieldValueInvalid",
          field: `${path}.containers[${i}].name`,
          value: name,
          detail: LABEL_MSG,
        });
      if (seen.has(name))
        errors.push({
          type: "FieldValueDuplicate",
          field: `${path}.containers[${i}].name`,
          value: name,
          detail: "",
        });
      seen.add(name);
    }
    if (typeof container.image !== "string" || container.image.trim() === "") {
      errors.push({ type: "FieldValueRequired", field: `${path}.containers[${i}].image`, detail: "" });
    }
  });
  return errors;
}

function validateDaemonSet(ds: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const spec = ds.spec ?? {};
  const selector = obj(spec.selector) as LabelSelector | undefined;
  const template = obj(spec.template) ?? {};
  const templateLabels = (obj(obj(template.metadata)?.labels) ?? {}) as Record<string, string>;
  if (!selector) {
    errors.push({ type: "FieldValueRequired", field: "spec.selector", detail: "" });
  } else {
    if (
      Object.keys(selector.matchLabels ?? {}).length === 0 &&
      (selector.matchExpressions ?? []).length === 0
    ) {
      errors.push({
        type: "FieldValueInvalid",
        field: "spec.selector",
        value: "empty selector",
        detail: "empty selector is invalid for daemonset",
      });
    } else if (!matchesLabelSelector(selector, templateLabels)) {
      errors.push({
        type: "FieldValueInvalid",
        field: "spec.template.metadata.labels",
        value: templateLabels,
        detail: "`selector` does not match template `labels`",
      });
    }
    if (old && !isDeepStrictEqual(obj(old.spec)?.selector, selector)) {
      errors.push({
        type: "FieldValueInvalid",
        field: "spec.selector",
        value: selector,
        detail: "field is immutable",
      });
    }
  }
  const podSpec = obj(template.spec) ?? {};
  errors.push(...validateContainers(podSpec, "spec.template.spec"));
  if (podSpec.restartPolicy !== undefined && podSpec.restartPolicy !== "Always") {
    errors.push({
      type: "FieldValueNotSupported",
      field: "spec.template.spec.restartPolicy",
      value: podSpec.restartPolicy,
      detail: 'supported values: "Always"',
    });
  }
  const strategy = obj(spec.updateStrategy);
  const type = strategy?.type;
  if (type !== undefined && type !== "RollingUpdate" && type !== "OnDelete") {
    errors.push({
      type: "FieldValueNotSupported",
      field: "spec.updateStrategy.type",
      value: type,
      detail: 'supported values: "OnDelete", "RollingUpdate"',
    });
  }
  return errors;
}

const POD_UPDATE_MESSAGE =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** The spec with what a pod update may change taken out, for ValidatePodUpdate's comparison. */
function podSpecSkeleton(spec: Json, oldTolerations: unknown[]): Json {
  const copy: Json = { ...spec };
  for (const key of ["containers", "initContainers"]) {
    if (Array.isArray(copy[key]))
      copy[key] = (copy[key] as unknown[]).map((c) => ({ ...obj(c), image: undefined }));
  }
  delete copy.activeDeadlineSeconds;
  const tolerations = Array.isArray(copy.tolerations) ? copy.tolerations : [];
  // Additions to the existing tolerations are allowed: compare only the old ones.
  const keepsOld = oldTolerations.every((t) => tolerations.some((n) => isDeepStrictEqual(n, t)));
  if (keepsOld) copy.tolerations = oldTolerations;
  return copy;
}

function validatePodUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  const oldSpec = old.spec ?? {};
  const oldTolerations = Array.isArray(oldSpec.tolerations) ? oldSpec.tolerations : [];
  const same = isDeepStrictEqual(
    podSpecSkeleton(pod.spec ?? {}, oldTolerations),
    podSpecSkeleton(oldSpec, oldTolerations),
  );
  return same ? [] : [{ type: "FieldValueForbidden", field: "spec", detail: POD_UPDATE_MESSAGE }];
}

/** Kind-specific validation after defaulting; `old` is set on updates. */
export function validateObject(info: ResourceInfo, o: KubeObject, old: KubeObject | undefined): FieldError[] {
  switch (info.kind) {
    case "DaemonSet":
      return validateDaemonSet(o, old);
    case "Pod":
      return [...validateContainers(o.spec ?? {}, "spec"), ...(old ? validatePodUpdate(o, old) : [])];
    default:
      return [];
  }
}
