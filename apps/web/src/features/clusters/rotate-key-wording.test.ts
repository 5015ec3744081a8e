import { describe, expect, it } from "vitest";
import { keySecretNotUpdated, rotatedKeyWarning } from "./rotate-key-wording";

const RETIRE = "5 Dec 2026, 12:00";

describe("rotate key wording", () => {
  it("names the Secret Tapfleet wrote the key into", () => {
    const outcome = { written: "Secret tapfleet-sensor/tapfleet-sensor-hmac", skipped: null };
    expect(rotatedKeyWarning(outcome, RETIRE)).toContain(
      "Tapfleet wrote this key into Secret tapfleet-sensor/tapfleet-sensor-hmac",
    );
    expect(keySecretNotUpdated(outcome)).toBeNull();
  });

  it("asks for the Secret to be updated when Tapfleet manages no sensor there", () => {
    expect(rotatedKeyWarning(null, RETIRE)).toContain(
      `Update the sensors' Secret with this key before ${RETIRE}`,
    );
    expect(keySecretNotUpdated(null)).toBeNull();
  });

  it("says why the Secret was not updated and what to do, once", () => {
    const outcome = {
      written: null,
      skipped: `The cluster "c1"'s Kubernetes connection is disabled: enable it first.`,
    };
    expect(rotatedKeyWarning(outcome, RETIRE)).toContain("Update the sensors' Secret with this key");
    expect(keySecretNotUpdated(outcome)).toBe(
      `The sensor's Secret was not updated. The cluster "c1"'s Kubernetes connection is disabled: enable it first. ` +
        "If the cluster could not be asked, enable or reconnect its connection and rotate again; or update the " +
        "Secret yourself with the kubectl command below and restart the sensor's pods.",
    );
    expect(keySecretNotUpdated({ written: null, skipped: "the DaemonSet reads a literal key" })).toMatch(
      /^The sensor's Secret was not updated\. The DaemonSet reads a literal key\. If/,
    );
  });
});
