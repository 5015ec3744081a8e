// `fieldValidation=Strict`: unknown fields are an error, reported with the
// API server's wording (`strict decoding error: unknown field "spec.foo"`).
// Kinds without a schema in KIND_SCHEMAS are accepted as they are.

import { KIND_SCHEMAS, type FieldSchema, type TypeSchema } from "../patch/schema.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

/** Paths of unknown fields, as `spec.template.spec.containers[0].foo`. */
export function findUnknownFields(kind: string, object: unknown): string[] {
  const schema = KIND_SCHEMAS[kind];
  if (!schema) return [];
  const unknown: string[] = [];
  walkObject(object, schema, "", unknown);
  return unknown;
}

function walkObject(value: unknown, schema: TypeSchema, path: string, unknown: string[]): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    const field = schema.fields[key];
    if (!field) unknown.push(childPath);
    else walkField(child, field, childPath, unknown);
  }
}

function walkField(value: unknown, field: FieldSchema, path: string, unknown: string[]): void {
  if (field.type === "object") walkObject(value, field.schema(), path, unknown);
  else if (field.type === "list" && field.item && Array.isArray(value)) {
    const item = field.item();
    value.forEach((entry, i) => walkObject(entry, item, `${path}[${i}]`, unknown));
  }
}

/** The message of the 400 the API server sends, or undefined when nothing is unknown. */
export function strictDecodingError(kind: string, object: unknown): string | undefined {
  const unknown = findUnknownFields(kind, object);
  if (unknown.length === 0) return undefined;
  return `strict decoding error: ${unknown.map((p) => `unknown field "${p}"`).join(", ")}`;
}

/** Parses the `fieldValidation` query parameter; the API server's default is Warn. */
export function parseFieldValidation(value: string | null): FieldValidation | undefined {
  if (value === null || value === "") return "Warn";
  return value === "Strict" || value === "Warn" || value === "Ignore" ? value : undefined;
}

/**
 * Removes unknown fields in place, except those listed in `keep` (unknown
 * fields already stored, which a patch did not introduce). Returns the removed
 * paths. This is what the API server does in `Warn`/`Ignore` mode: the typed
 * decoder drops what it does not know.
 */
export function pruneUnknownFields(
  kind: string,
  object: unknown,
  keep: ReadonlySet<string> = new Set(),
): string[] {
  const schema = KIND_SCHEMAS[kind];
  if (!schema) return [];
  const removed: string[] = [];
  prune(object, schema, "", keep, removed);
  return removed;
}

function prune(
  value: unknown,
  schema: TypeSchema,
  path: string,
  keep: ReadonlySet<string>,
  removed: string[],
): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return;
  const record = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(record)) {
    const childPath = path ? `${path}.${key}` : key;
    const field = schema.fields[key];
    if (!field) {
      if (!keep.has(childPath)) {
        delete record[key];
        removed.push(childPath);
      }
    } else if (field.type === "object") prune(child, field.schema(), childPath, keep, removed);
    else if (field.type === "list" && field.item && Array.isArray(child)) {
      const item = field.item();
      child.forEach((entry, i) => prune(entry, item, `${childPath}[${i}]`, keep, removed));
    }
  }
}
