import { describe, expect, it } from "vitest";
import { describeHmacKeyOnRollout } from "./adopt.ts";

// What the adopt preview says rollouts do with the DaemonSet's HMAC key, by
// where the key comes from (the rule core/rollouts applies).
describe("describeHmacKeyOnRollout", () => {
  const at = { namespace: "monitoring", name: "ossensor" };

  it.each([
    [
      "a literal that is not the cluster's key",
      { kind: "literal" } as const,
      false,
      [
        "never shows it",
        "replaces it with a reference to Secret monitoring/ossensor-hmac (key hmac-key), which Tapfleet creates",
        "Tapfleet refuses reports signed with the literal key (it is not this cluster's ingest key)",
      ],
    ],
    [
      "a literal that is the cluster's key",
      { kind: "literal" } as const,
      true,
      ["replaces it with a reference to Secret monitoring/ossensor-hmac", "reports keep being accepted"],
    ],
    [
      "no key",
      { kind: "missing" } as const,
      false,
      ["sets no key", "adds a reference to Secret monitoring/ossensor-hmac"],
    ],
    [
      "the owner's own Secret",
      { kind: "secretKeyRef", name: "sensor-key", key: "token" } as const,
      false,
      [
        "Secret monitoring/sensor-key (key token), which stays yours: rollouts keep that reference and never write the Secret",
        "It must hold this cluster's ingest key",
        "the new key after each rotation",
      ],
    ],
    [
      "the Secret Tapfleet manages (an exported YAML applied by hand)",
      { kind: "secretKeyRef", name: "ossensor-hmac", key: "hmac-key" } as const,
      true,
      ["reads the key from Secret monitoring/ossensor-hmac (key hmac-key), which Tapfleet creates"],
    ],
    [
      "a ConfigMap",
      { kind: "configMapKeyRef", name: "sensor-env", key: "key" } as const,
      false,
      ["ConfigMap monitoring/sensor-env (key key): rollouts keep that reference", "move it to a Secret"],
    ],
  ])("%s", (_name, source, isClusterKey, says) => {
    const text = describeHmacKeyOnRollout({ ...at, source, isClusterKey });
    for (const part of says) expect(text).toContain(part);
  });
});
