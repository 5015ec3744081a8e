// Server-side apply (`application/apply-patch+yaml`), simplified: the applied
// configuration is merged into the live object with the strategic-merge list
// keys, and what the same field manager applied before but no longer applies is
// removed (the caller remembers each manager's last configuration). Simplified
// on purpose: no managedFields are tracked or returned (kubectl then skips its
// client-side-apply migration), a field another manager also set is removed all
// the same, and there are no conflicts between managers — `force` is accepted
// and has no effect.

import { parse as parseYaml } from "yaml";
import { fieldOf, type TypeSchema } from "./schema.ts";
import {
  deepEqual,
  isObject,
  PatchError,
  strategicMergePatch,
  type Json,
  type JsonObject,
} from "./strategic-merge.ts";

/** Parses an apply body: usually JSON (kubectl sends JSON), otherwise YAML. */
export function parseApplyBody(text: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    try {
      parsed = parseYaml(text);
    } catch (error) {
      throw new PatchError(
        `error decoding YAML: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      );
    }
  }
  if (!isObject(parsed)) throw new PatchError("the applied configuration must be a YAML or JSON object");
  return parsed;
}

/**
 * Merges an applied configuration into the live object. With `previous` (the
 * same manager's last applied configuration), fields it had and `applied` no
 * longer has are removed first. See the file comment for what is simplified.
 */
export function serverSideApply(
  live: JsonObject,
  applied: JsonObject,
  schema: TypeSchema | undefined,
  previous?: JsonObject,
): JsonObject {
  const next = stripDirectives(applied);
  const pruned = previous
    ? strategicMergePatch(live, removalPatch(stripDirectives(previous), next, schema), schema)
    : live;
  return strategicMergePatch(pruned, next, schema);
}

/** A strategic merge patch deleting what `previous` set and `next` does not. */
export function removalPatch(
  previous: JsonObject,
  next: JsonObject,
  schema: TypeSchema | undefined,
): JsonObject {
  const patch: JsonObject = {};
  for (const [key, before] of Object.entries(previous)) {
    const after = next[key];
    if (after === undefined) {
      patch[key] = null;
      continue;
    }
    const field = fieldOf(schema, key);
    if (isObject(before) && isObject(after)) {
      const nested = removalPatch(before, after, field?.type === "object" ? field.schema() : undefined);
      if (Object.keys(nested).length > 0) patch[key] = nested;
    } else if (Array.isArray(before) && Array.isArray(after) && field?.type === "list") {
      if (field.mergeScalars) {
        const gone = before.filter((item) => !after.some((other) => deepEqual(item, other)));
        if (gone.length > 0) patch[`$deleteFromPrimitiveList/${key}`] = gone;
      } else if (field.mergeKey !== undefined) {
        const items = listRemovals(before, after, field.mergeKey, field.item?.());
        if (items.length > 0) patch[key] = items;
      }
    }
  }
  return patch;
}

function listRemovals(
  before: Json[],
  after: Json[],
  mergeKey: string,
  itemSchema: TypeSchema | undefined,
): Json[] {
  const out: Json[] = [];
  for (const item of before) {
    if (!isObject(item) || item[mergeKey] === undefined) continue;
    const keyValue = item[mergeKey];
    const match = after.find((other) => isObject(other) && deepEqual(other[mergeKey], keyValue));
    if (!isObject(match)) {
      out.push({ $patch: "delete", [mergeKey]: keyValue });
      continue;
    }
    const nested = removalPatch(item, match, itemSchema);
    if (Object.keys(nested).length > 0) out.push({ ...nested, [mergeKey]: keyValue });
  }
  return out;
}

function stripDirectives(value: JsonObject): JsonObject {
  const result: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith("$")) continue;
    result[key] = isObject(item)
      ? stripDirectives(item)
      : Array.isArray(item)
        ? item.map((x) => (isObject(x) ? stripDirectives(x) : x))
        : item;
  }
  return result;
}
