// JSON merge patch (RFC 7386): objects merge recursively, `null` removes a key,
// everything else (arrays included) replaces the target value.

import { isObject, type Json, type JsonObject } from "./strategic-merge.ts";

export function jsonMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = jsonMergePatch(result[key] ?? null, value);
  }
  return result;
}
