// JSON Patch (RFC 6902) through fast-json-patch, with its errors mapped to the
// answers the API server gives: a malformed operation is a bad request, a
// failing `test` or a missing path makes the request invalid.

import jsonPatch, { type Operation } from "fast-json-patch";
import { PatchError, type JsonObject } from "./strategic-merge.ts";

export function applyJsonPatch(document: JsonObject, operations: unknown): JsonObject {
  if (!Array.isArray(operations))
    throw new PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  try {
    // validate=true rejects malformed operations; mutate=false leaves `document` untouched.
    const result = jsonPatch.applyPatch(document, operations as Operation[], true, false).newDocument;
    return result;
  } catch (error) {
    const message = error instanceof Error ? (error.message.split("\n")[0] ?? error.message) : String(error);
    throw new PatchError(message);
  }
}
