// The annotation kubectl's client-side apply keeps on every object it applies.
// Tapfleet writes it exactly as kubectl would for the same file, so that
// `kubectl apply -f` of the exported YAML finds nothing to change ("unchanged")
// on a cluster where Tapfleet installed the sensor, and the reverse.

/** kubectl's annotation: the JSON of the object as last applied, without this annotation. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * JSON as Go's encoding/json writes an unstructured object (what kubectl
 * stores): keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped, and a
 * trailing newline.
 */
export function encodeLikeKubectl(value: unknown): string {
  const sorted = (item: unknown): Json => {
    if (Array.isArray(item)) return item.map(sorted);
    if (item !== null && typeof item === "object") {
      const out: Record<string, Json> = {};
      for (const key of Object.keys(item).sort()) {
        const child = (item as Record<string, unknown>)[key];
        if (child !== undefined) out[key] = sorted(child);
      }
      return out;
    }
    return item as Json;
  };
  const text = JSON.stringify(sorted(value)).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `${text}\n`;
}

interface WithMetadata {
  metadata: { annotations?: Record<string, string> | undefined };
}

/**
 * The object with kubectl's last-applied annotation set to what `kubectl
 * apply -f` of the same object (as YAML) would record.
 */
export function withLastApplied<T extends WithMetadata>(object: T): T {
  const { [LAST_APPLIED_ANNOTATION]: _previous, ...annotations } = object.metadata.annotations ?? {};
  const withoutAnnotation: T = {
    ...object,
    // kubectl sets an empty map when the object had none: `"annotations":{}` is part of what it records.
    metadata: { ...object.metadata, annotations },
  };
  const recorded = encodeLikeKubectl(withoutAnnotation);
  return {
    ...object,
    metadata: { ...object.metadata, annotations: { ...annotations, [LAST_APPLIED_ANNOTATION]: recorded } },
  };
}
