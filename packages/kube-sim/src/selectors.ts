// Label and field selectors with the semantics of k8s.io/apimachinery/pkg/labels
// and pkg/fields: the string forms used in `?labelSelector=` / `?fieldSelector=`
// and the structured `LabelSelector` used by workload specs.

import { badRequest } from "./errors.ts";

// ---------------------------------------------------------------------------
// Label selectors (string form)

export type LabelOperator = "=" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

const KEY = String.raw`(?:[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?)`;
const VALUE = String.raw`(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const RE_NOT_EXISTS = new RegExp(`^!\\s*(${KEY})$`);
const RE_SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\((.*)\\)$`);
const RE_COMPARE = new RegExp(`^(${KEY})\\s*(==|=|!=|>|<)\\s*(${VALUE})$`);
const RE_EXISTS = new RegExp(`^(${KEY})$`);
const RE_VALUE = new RegExp(`^${VALUE}$`);

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of input) {
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/**
 * Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`. Throws a 400 ApiError on bad input,
 * as the API server does for `?labelSelector=`.
 */
export function parseLabelSelector(selector: string | undefined): LabelRequirement[] {
  if (selector === undefined || selector.trim() === "") return [];
  const requirements: LabelRequirement[] = [];
  for (const raw of splitTopLevel(selector)) {
    const part = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = RE_NOT_EXISTS.exec(part))) {
      requirements.push({ key: m[1]!, operator: "!", values: [] });
    } else if ((m = RE_SET.exec(part))) {
      const values = m[3]!.split(",").map((v) => v.trim());
      if (values.some((v) => !RE_VALUE.test(v)))
        throw badRequest(`unable to parse requirement: invalid value in ${JSON.stringify(part)}`);
      requirements.push({ key: m[1]!, operator: m[2] === "in" ? "in" : "notin", values });
    } else if ((m = RE_COMPARE.exec(part))) {
      const op = m[2]!;
      const operator: LabelOperator = op === "!=" ? "!=" : op === ">" ? "gt" : op === "<" ? "lt" : "=";
      if ((operator === "gt" || operator === "lt") && !/^-?\d+$/.test(m[3]!)) {
        throw badRequest(
          `unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`,
        );
      }
      requirements.push({ key: m[1]!, operator, values: [m[3]!] });
    } else if ((m = RE_EXISTS.exec(part))) {
      requirements.push({ key: m[1]!, operator: "exists", values: [] });
    } else {
      throw badRequest(
        `unable to parse requirement: found ${JSON.stringify(part)}, expected: key, !key, key=value, key!=value, key in (…), key notin (…)`,
      );
    }
  }
  return requirements;
}

export function matchesLabelRequirements(
  requirements: LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  for (const r of requirements) {
    const value = labels?.[r.key];
    switch (r.operator) {
      case "=":
        if (value !== r.values[0]) return false;
        break;
      case "!=":
        if (value === r.values[0]) return false;
        break;
      case "in":
        if (value === undefined || !r.values.includes(value)) return false;
        break;
      case "notin":
        if (value !== undefined && r.values.includes(value)) return false;
        break;
      case "exists":
        if (value === undefined) return false;
        break;
      case "!":
        if (value !== undefined) return false;
        break;
      case "gt":
      case "lt": {
        if (value === undefined || !/^-?\d+$/.test(value)) return false;
        const have = Number(value);
        const want = Number(r.values[0]);
        if (r.operator === "gt" ? !(have > want) : !(have < want)) return false;
        break;
      }
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Structured label selectors (spec.selector of workloads)

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/**
 * `metav1.LabelSelectorAsSelector` semantics: an absent selector matches nothing,
 * an empty one matches everything.
 */
export function matchesLabelSelector(
  selector: LabelSelector | undefined | null,
  labels: Record<string, string> | undefined,
): boolean {
  if (selector === undefined || selector === null) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels?.[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const value = labels?.[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (value === undefined || !values.includes(value)) return false;
        break;
      case "NotIn":
        if (value !== undefined && values.includes(value)) return false;
        break;
      case "Exists":
        if (value === undefined) return false;
        break;
      case "DoesNotExist":
        if (value !== undefined) return false;
        break;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Field selectors

export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

/** Splits on a separator not preceded by a backslash (fields.Parse escaping). */
function splitUnescaped(input: string, sep: string): string[] {
  const out: string[] = [];
  let current = "";
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (ch === "\\" && i + 1 < input.length) {
      current += ch + input[i + 1]!;
      i++;
    } else if (ch === sep) {
      out.push(current);
      current = "";
    } else current += ch;
  }
  out.push(current);
  return out;
}

function unescapeFieldValue(value: string): string {
  return value.replace(/\\(.)/g, "$1");
}

/** Parses `metadata.name=x,spec.nodeName!=y` (`=`, `==`, `!=`), honouring `\,` `\=` escapes. */
export function parseFieldSelector(selector: string | undefined): FieldRequirement[] {
  if (selector === undefined || selector.trim() === "") return [];
  const out: FieldRequirement[] = [];
  for (const term of splitUnescaped(selector, ",")) {
    if (term === "") continue;
    const m = /^([^=!\\]+?)\s*(==|!=|=)(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    out.push({ field: m[1]!.trim(), operator: m[2] === "!=" ? "!=" : "=", value: unescapeFieldValue(m[3]!) });
  }
  return out;
}

export function matchesFieldRequirements(
  requirements: FieldRequirement[],
  get: (field: string) => string,
): boolean {
  for (const r of requirements) {
    const have = get(r.field);
    if (r.operator === "=" ? have !== r.value : have === r.value) return false;
  }
  return true;
}
