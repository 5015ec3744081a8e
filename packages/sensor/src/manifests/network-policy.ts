// The optional NetworkPolicy: egress to the collector (or the proxy), to the
// Kubernetes API, and to DNS when a host name must be resolved; no ingress.

import { bypassesProxy, hostCidr, proxyTarget } from "../network.ts";
import { resolveSensorSettings, type SensorSettings } from "../settings.ts";
import type { Labels, NetworkPolicy, NetworkPolicyEgressRule, ObjectMeta } from "./types.ts";

export interface NetworkPolicyOptions {
  enabled: boolean;
  /** Where the collector (VSENSOR_HOSTNAME) is, when it is a host name; an IP address needs nothing. */
  collectorCidrs?: string[];
  /** Where the proxy is, when HTTPS_PROXY names it by host name. */
  proxyCidrs?: string[];
  /** The API server's addresses and port as the pod sees them after Service NAT (443 on most managed clusters, 6443 on kubeadm). */
  apiServer?: { cidrs?: string[]; port?: number };
  /** DNS server pods, for host names. Default: kube-system pods labelled k8s-app=kube-dns. */
  dns?: { namespace: string; podLabels: Labels } | false;
}

/**
 * Note: most CNI plugins do not apply NetworkPolicy to hostNetwork pods,
 * which the sensor is; the warning says so.
 */
export function renderNetworkPolicy(options: {
  settings: SensorSettings;
  policy: NetworkPolicyOptions;
  metadata: ObjectMeta;
  selectorLabels: Labels;
  warnings: string[];
}): NetworkPolicy {
  const { policy, warnings } = options;
  const resolved = resolveSensorSettings(options.settings);
  const egress: NetworkPolicyEgressRule[] = [];
  let needsDns = false;
  warnings.push(
    "networkPolicy: the sensor uses hostNetwork, and most CNI plugins do not enforce NetworkPolicy on host-network pods; check yours (Calico host endpoints, Cilium host policies)",
  );

  const destinations: Array<{ what: string; host: string; port: number; cidrs: string[] | undefined }> = [];
  const collector = {
    what: "collector",
    host: resolved.collectorHost,
    port: resolved.collectorPort,
    cidrs: policy.collectorCidrs,
  };
  if (resolved.httpsProxy === undefined) {
    destinations.push(collector);
  } else {
    const proxy = proxyTarget(resolved.httpsProxy);
    destinations.push({ what: "proxy", ...proxy, cidrs: policy.proxyCidrs });
    if (bypassesProxy(resolved.collectorHost, resolved.noProxy)) destinations.push(collector);
  }
  for (const destination of destinations) {
    const cidrs =
      destination.cidrs ?? [hostCidr(destination.host)].filter((cidr): cidr is string => cidr !== undefined);
    if (hostCidr(destination.host) === undefined) needsDns = true;
    if (cidrs.length === 0) {
      warnings.push(
        `networkPolicy: the ${destination.what} ${destination.host} is a host name; without ${destination.what}Cidrs egress to port ${destination.port} is allowed to any address`,
      );
      egress.push({ ports: [{ protocol: "TCP", port: destination.port }] });
    } else {
      egress.push({
        to: cidrs.map((cidr) => ({ ipBlock: { cidr } })),
        ports: [{ protocol: "TCP", port: destination.port }],
      });
    }
  }

  const apiPort = policy.apiServer?.port ?? 443;
  const apiCidrs = policy.apiServer?.cidrs ?? [];
  if (apiCidrs.length === 0)
    warnings.push(
      `networkPolicy: without apiServer.cidrs egress to port ${apiPort} is allowed to any address`,
    );
  egress.push({
    ...(apiCidrs.length === 0 ? {} : { to: apiCidrs.map((cidr) => ({ ipBlock: { cidr } })) }),
    ports: [{ protocol: "TCP", port: apiPort }],
  });

  if (needsDns && policy.dns !== false) {
    const dns = policy.dns ?? { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } };
    egress.push({
      to: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": dns.namespace } },
          podSelector: { matchLabels: { ...dns.podLabels } },
        },
      ],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    });
  }
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: options.metadata,
    spec: {
      podSelector: { matchLabels: { ...options.selectorLabels } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress,
    },
  };
}
