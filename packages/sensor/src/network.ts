// Network helpers shared by the manifests (NetworkPolicy egress) and the
// agent (whether NO_PROXY sends the collector direct). Kept apart from the
// manifests so that the agent does not load the YAML library they render with.

import { isIpv4, isIpv6 } from "./settings.ts";

/** The host and port an HTTP(S) proxy URL points at (the scheme's default port when none is given). */
export function proxyTarget(proxy: string): { host: string; port: number } {
  const url = new URL(proxy);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port) };
}

/** The one-address CIDR of an IP address; undefined for a host name. */
export function hostCidr(host: string): string | undefined {
  if (isIpv4(host)) return `${host}/32`;
  if (isIpv6(host)) return `${host}/128`;
  return undefined;
}

function ipv4Number(address: string): number {
  return address.split(".").reduce((total, part) => total * 256 + Number(part), 0);
}

/** Does NO_PROXY send `host` direct? Go's rules: "*", exact host, domain suffix (with or without a leading "." or "*."), IPv4 CIDR. */
export function bypassesProxy(host: string, noProxy: readonly string[]): boolean {
  return noProxy.some((entry) => {
    const bare = entry.startsWith("[")
      ? entry.replace(/^\[(.*)\](:[0-9]+)?$/, "$1")
      : entry.split(":").length === 2
        ? entry.replace(/:[0-9]+$/, "")
        : entry;
    if (bare === "*" || bare === host) return true;
    const cidr = /^([0-9.]+)\/([0-9]+)$/.exec(bare);
    if (cidr !== null) {
      if (!isIpv4(host) || !isIpv4(cidr[1] ?? "")) return false;
      const bits = Number(cidr[2]);
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      return (ipv4Number(host) & mask) >>> 0 === (ipv4Number(cidr[1] ?? "") & mask) >>> 0;
    }
    if (isIpv4(host) || isIpv6(host)) return false;
    return host.endsWith(`.${bare.replace(/^\*?\./, "")}`);
  });
}
