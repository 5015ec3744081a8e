import type { Labels, Namespace } from "./types.ts";

export function renderNamespace(options: { name: string; labels: Labels }): Namespace {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: options.name, labels: { ...options.labels } },
  };
}
