// Patch engines used by the HTTP layer, one per PATCH content type.

export { applyJsonPatch } from "./json-patch.ts";
export { jsonMergePatch } from "./merge-patch.ts";
export { KIND_SCHEMAS, type FieldSchema, type TypeSchema } from "./schema.ts";
export { parseApplyBody, serverSideApply } from "./server-side-apply.ts";
export {
  deepEqual,
  isObject,
  PatchError,
  strategicMergePatch,
  type Json,
  type JsonObject,
} from "./strategic-merge.ts";
