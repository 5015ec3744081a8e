// Cluster ids become Kubernetes-style names in the agent's Secret and in URLs, so they follow
// the DNS label rule the server enforces.

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function validateClusterId(id: string): string | null {
  if (id.length === 0) return "Give the cluster an id, e.g. prod-eu-1.";
  if (id.length > 63) return "Use at most 63 characters.";
  if (!dnsLabel.test(id)) {
    return "Use lowercase letters, digits and hyphens, starting and ending with a letter or digit.";
  }
  return null;
}
