import { stringify } from "yaml";
import type { KubeObject } from "./types.ts";

/**
 * Multi-document YAML, one object per document. Written as YAML 1.1 so that
 * strings such as "on", "yes" or "0" are quoted: kubectl reads YAML 1.1, where
 * they would turn into booleans and numbers and break string fields like env values.
 */
export function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((object) => stringify(object, { version: "1.1", lineWidth: 0 })).join("---\n");
}
