// Read-only RBAC on exactly what the agent reads. Cluster-scoped names carry
// the namespace so two installs cannot collide.

import type { ClusterRole, ClusterRoleBinding, ObjectMeta, PolicyRule } from "./types.ts";

/**
 * Everything the agent reads from the Kubernetes API, and so everything its
 * ClusterRole grants: pods (to attribute interfaces and talkers on its node to
 * pods) and nodes (to attribute host-network addresses). Read-only verbs only;
 * the agent writes nothing to the API. Reading anything else gets a 403.
 */
export const AGENT_RBAC_RULES: readonly PolicyRule[] = [
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
];

/** The ClusterRole's (and its binding's) name for an install. */
export function clusterRoleName(options: { namespace: string; name: string }): string {
  return `${options.namespace}:${options.name}`;
}

export function renderClusterRole(options: { metadata: ObjectMeta }): ClusterRole {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: options.metadata,
    rules: AGENT_RBAC_RULES.map((rule) => ({
      apiGroups: [...rule.apiGroups],
      resources: [...rule.resources],
      verbs: [...rule.verbs],
    })),
  };
}

/** Binds the ClusterRole named in `metadata` to the ServiceAccount. */
export function renderClusterRoleBinding(options: {
  metadata: ObjectMeta;
  serviceAccount: { name: string; namespace: string };
}): ClusterRoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: options.metadata,
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: options.metadata.name },
    subjects: [{ kind: "ServiceAccount", ...options.serviceAccount }],
  };
}
