import { describe, expect, it } from "vitest";
import { defaultCollector, envSnippet, secretCommand } from "./agent-enrollment";

describe("agent enrollment text", () => {
  it.each([
    [{ protocol: "https:", hostname: "tapfleet.example.com", port: "" }, "tapfleet.example.com", "443"],
    [{ protocol: "https:", hostname: "10.0.0.5", port: "8443" }, "10.0.0.5", "8443"],
    // Agents speak HTTPS only: a plain-HTTP page's port is not theirs.
    [{ protocol: "http:", hostname: "localhost", port: "3000" }, "localhost", "443"],
    [{ protocol: "https:", hostname: "[fd00::1]", port: "" }, "fd00::1", "443"],
  ])("reports to the browser's host by default: %o", (location, host, port) => {
    expect(defaultCollector(location)).toEqual({ host, port });
  });

  it("reports to the server's configured public address (TAPFLEET_PUBLIC_URL) when it has one", () => {
    const page = { protocol: "http:", hostname: "localhost", port: "3000" };
    expect(defaultCollector(page, { host: "tapfleet.example.com", port: 8443 })).toEqual({
      host: "tapfleet.example.com",
      port: "8443",
    });
    expect(defaultCollector(page, null)).toEqual({ host: "localhost", port: "443" });
  });

  it("creates the Secret the sensor's manifests read, with the key quoted for the shell", () => {
    const command = secretCommand({ secret: "abc'def" });
    expect(command).toContain(
      "kubectl create secret generic tapfleet-sensor-hmac --namespace tapfleet-sensor",
    );
    expect(command).toContain(`--from-literal=hmac-key='abc'\\''def'`);
    expect(secretCommand({ secret: "Zm9v-bar_baz" })).toContain("--from-literal=hmac-key=Zm9v-bar_baz ");
  });

  it("names every variable, the key only by reference", () => {
    const env = envSnippet({ clusterId: "prod-eu-1", host: "tapfleet.example.com", port: "443" });
    for (const variable of [
      "TAPFLEET_CLUSTER_ID",
      "VSENSOR_HOSTNAME",
      "VSENSOR_PORT",
      "VSENSOR_HMAC_KEY",
      "VSENSOR_TLS_CA_FILE",
    ])
      expect(env).toContain(`name: ${variable}`);
    expect(env).toContain('value: "prod-eu-1"');
    expect(env).toMatch(/secretKeyRef:\n\s+name: tapfleet-sensor-hmac\n\s+key: hmac-key/);
  });
});
