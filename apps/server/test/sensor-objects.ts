// What the sensor install renders into a cluster, as tests compare it: the objects by
// resource, namespace and name, and each object without what the API server sets.

type Json = Record<string, unknown>;

/** What the cluster keeps of an object, without what the server sets. */
export function normalise(object: unknown) {
  if (!object) return undefined;
  const {
    status: _status,
    metadata,
    ...rest
  } = object as Json & {
    metadata: { name: string; labels?: Json; annotations?: Record<string, string> };
  };
  const annotations = { ...metadata.annotations };
  delete annotations["deprecated.daemonset.template.generation"];
  return { ...rest, metadata: { name: metadata.name, labels: metadata.labels, annotations } };
}

export const SENSOR_OBJECTS = [
  ["namespaces", undefined, "tapfleet-sensor"],
  ["serviceaccounts", "tapfleet-sensor", "tapfleet-sensor"],
  ["secrets", "tapfleet-sensor", "tapfleet-sensor-hmac"],
  ["networkpolicies.networking.k8s.io", "tapfleet-sensor", "tapfleet-sensor"],
  ["daemonsets.apps", "tapfleet-sensor", "tapfleet-sensor"],
] as const;
