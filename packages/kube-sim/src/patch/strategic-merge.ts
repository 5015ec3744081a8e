// Strategic merge patch, as the API server applies it (k8s.io/apimachinery
// strategicpatch): maps merge key by key, `null` deletes, lists with a merge key
// merge item by item, other lists are replaced, and the directives `$patch`,
// `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`
// are honoured. A naive deep merge would drop a container's `env` when kubectl
// sends only the changed variable, which is exactly what this must not do.

import { fieldOf, type FieldSchema, type TypeSchema } from "./schema.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Thrown for patches the API server would reject (400 BadRequest). */
export class PatchError extends Error {
  override readonly name = "PatchError";
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const SET_ELEMENT_ORDER = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/";

/**
 * Applies a strategic merge patch to `original` (not mutated) using the list
 * semantics in `schema` (the root schema of the object's kind; `undefined`
 * merges all lists by replacement, like a JSON merge patch with directives).
 */
export function strategicMergePatch(
  original: JsonObject,
  patch: JsonObject,
  schema: TypeSchema | undefined,
): JsonObject {
  const merged = mergeMap(original, patch, schema);
  if (merged === undefined) throw new PatchError("a strategic merge patch cannot delete the whole object");
  return merged;
}

function mergeMap(
  original: JsonObject,
  patch: JsonObject,
  schema: TypeSchema | undefined,
): JsonObject | undefined {
  const directive = patch.$patch;
  if (directive === "delete") return undefined;
  if (directive === "replace") return cleanNew(withoutKey(patch, "$patch"), schema) as JsonObject;
  if (directive !== undefined && directive !== "merge") {
    throw new PatchError(`unknown patch type: ${JSON.stringify(directive)} in map: ${JSON.stringify(patch)}`);
  }

  const result: JsonObject = { ...original };

  const retainKeys = patch.$retainKeys;
  if (retainKeys !== undefined) {
    if (!Array.isArray(retainKeys)) throw new PatchError("$retainKeys must be a list of strings");
    for (const key of Object.keys(result)) if (!retainKeys.includes(key)) delete result[key];
  }

  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys" || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      const listName = key.slice(DELETE_FROM_PRIMITIVE_LIST.length);
      if (!Array.isArray(value)) throw new PatchError(`${key} must be a list`);
      const current = result[listName];
      if (Array.isArray(current)) {
        result[listName] = current.filter((item) => !value.some((gone) => deepEqual(gone, item)));
      }
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const field = fieldOf(schema, key);
    const current = result[key];
    if (isObject(value)) {
      const childSchema = field?.type === "object" ? field.schema() : undefined;
      const merged = mergeMap(isObject(current) ? current : {}, value, childSchema);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeListField(Array.isArray(current) ? current : undefined, value, field);
    } else {
      result[key] = value;
    }
  }

  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const listName = key.slice(SET_ELEMENT_ORDER.length);
    const list = result[listName];
    if (!Array.isArray(order)) throw new PatchError(`${key} must be a list`);
    if (Array.isArray(list)) {
      const field = fieldOf(schema, listName);
      result[listName] = applyElementOrder(list, order, field?.type === "list" ? field.mergeKey : undefined);
    }
  }
  return result;
}

function mergeListField(current: Json[] | undefined, patch: Json[], field: FieldSchema | undefined): Json[] {
  const listField = field?.type === "list" ? field : undefined;
  const itemSchema = listField?.item?.();

  // `[{"$patch": "replace"}, ...items]` replaces the list whatever its strategy.
  const replaceMarker = patch.findIndex(
    (item) => isObject(item) && item.$patch === "replace" && Object.keys(item).length === 1,
  );
  if (replaceMarker >= 0) {
    return patch.filter((_, i) => i !== replaceMarker).map((item) => cleanNew(item, itemSchema));
  }

  if (listField?.mergeScalars) {
    const result = [...(current ?? [])];
    for (const item of patch) if (!result.some((existing) => deepEqual(existing, item))) result.push(item);
    return result;
  }

  const mergeKey = listField?.mergeKey;
  if (mergeKey === undefined) return patch.map((item) => cleanNew(item, itemSchema));

  const result: Json[] = [...(current ?? [])];
  for (const item of patch) {
    if (!isObject(item)) throw new PatchError(`list items must be maps when merging on "${mergeKey}"`);
    const keyValue = item[mergeKey];
    if (keyValue === undefined)
      throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    const index = result.findIndex(
      (existing) => isObject(existing) && deepEqual(existing[mergeKey], keyValue),
    );
    if (item.$patch === "delete") {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) {
      const existing = result[index];
      const merged = mergeMap(isObject(existing) ? existing : {}, item, itemSchema);
      if (merged === undefined) result.splice(index, 1);
      else result[index] = merged;
    } else {
      const created = mergeMap({}, item, itemSchema);
      if (created !== undefined) result.push(created);
    }
  }
  return result;
}

/**
 * Sorts the items named in `order` into the slots that such items occupy, so
 * items the client did not know of (server-side additions) keep their place.
 */
function applyElementOrder(list: Json[], order: Json[], mergeKey: string | undefined): Json[] {
  const rank = (item: Json): number =>
    order.findIndex((entry) =>
      mergeKey !== undefined && isObject(entry) && isObject(item)
        ? deepEqual(entry[mergeKey], item[mergeKey])
        : deepEqual(entry, item),
    );
  const slots: number[] = [];
  const ordered: Array<{ item: Json; rank: number }> = [];
  list.forEach((item, index) => {
    const r = rank(item);
    if (r >= 0) {
      slots.push(index);
      ordered.push({ item, rank: r });
    }
  });
  ordered.sort((a, b) => a.rank - b.rank);
  const result = [...list];
  slots.forEach((slot, i) => {
    result[slot] = ordered[i]!.item;
  });
  return result;
}

/** New content (nothing to merge with): drop directives and null values. */
function cleanNew(value: Json, schema: TypeSchema | undefined): Json {
  if (Array.isArray(value)) return value.map((item) => cleanNew(item, undefined));
  if (!isObject(value)) return value;
  const merged = mergeMap({}, value, schema);
  return merged ?? {};
}

function withoutKey(object: JsonObject, key: string): JsonObject {
  const copy = { ...object };
  delete copy[key];
  return copy;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = Object.keys(ao);
  return (
    keys.length === Object.keys(bo).length && keys.every((key) => key in bo && deepEqual(ao[key], bo[key]))
  );
}
