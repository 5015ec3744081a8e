// Server-side apply (`application/apply-patch+yaml`), simplified: the applied
// configuration is merged into the live object with the strategic-merge list
// keys, without directives. Simplifications, on purpose: no managedFields are
// tracked or returned (kubectl then skips its client-side-apply migration), so
// fields dropped from a later apply are not removed, and there are no conflicts
// between field managers — `force` is accepted and has no effect.

import { parse as parseYaml } from "yaml";
import type { TypeSchema } from "./schema.ts";
import { isObject, PatchError, strategicMergePatch, type JsonObject } from "./strategic-merge.ts";

/** Parses an apply body: usually JSON (kubectl sends JSON), otherwise YAML. */
export function parseApplyBody(text: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    try {
      parsed = parseYaml(text);
    } catch (error) {
      throw new PatchError(`error decoding YAML: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
  }
  if (!isObject(parsed)) throw new PatchError("the applied configuration must be a YAML or JSON object");
  return parsed;
}

/** Merges an applied configuration into the live object (see the file comment for what is simplified). */
export function serverSideApply(live: JsonObject, applied: JsonObject, schema: TypeSchema | undefined): JsonObject {
  return strategicMergePatch(live, stripDirectives(applied), schema);
}

function stripDirectives(value: JsonObject): JsonObject {
  const result: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith("$")) continue;
    result[key] = isObject(item) ? stripDirectives(item) : Array.isArray(item) ? item.map((x) => (isObject(x) ? stripDirectives(x) : x)) : item;
  }
  return result;
}
