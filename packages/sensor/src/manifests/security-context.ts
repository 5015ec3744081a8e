// Security contexts. Every container but capture runs as the seed's uid 1000,
// non-root; capture runs either `privileged` (the seed's way, the default) or
// with only the capabilities libpcap needs (`captureMode: "capabilities"`).

import type { SecurityContext } from "./types.ts";

/**
 * What a capture needs without `privileged`: NET_RAW opens AF_PACKET sockets,
 * NET_ADMIN puts interfaces into promiscuous mode. Linux does not give added
 * capabilities to a non-root process (Kubernetes sets no ambient set), so the
 * capture container stays uid 0 in this mode too.
 */
export const CAPTURE_CAPABILITIES = ["NET_RAW", "NET_ADMIN"] as const;

/** The seed's context for every container but capture (uid/gid 1000), plus dropping all capabilities. */
export function nonRootSecurityContext(): SecurityContext {
  return {
    runAsUser: 1000,
    runAsGroup: 1000,
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
  };
}

export type CaptureMode = "privileged" | "capabilities";

export function captureSecurityContext(mode: CaptureMode, readOnlyRootFilesystem: boolean): SecurityContext {
  if (mode === "privileged") {
    // As in the seed. allowPrivilegeEscalation cannot be false with privileged: true (API validation).
    return { privileged: true, runAsUser: 0, runAsNonRoot: false, readOnlyRootFilesystem };
  }
  return {
    privileged: false,
    runAsUser: 0,
    runAsNonRoot: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem,
    capabilities: { drop: ["ALL"], add: [...CAPTURE_CAPABILITIES] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}
