import { describe, expect, it } from "vitest";
import { canonicalJson, computeConfigHash, prepareConfigHashKey } from "./config-hash.ts";
import type { SensorSettings } from "./settings.ts";

const BASE: SensorSettings = {
  collectorHost: "collector.example.com",
  hmacKey: "0123456789abcdef0123456789abcdef",
  clusterId: "c1",
};

describe("computeConfigHash", () => {
  const hash = computeConfigHash(BASE);

  it("gives the same hash whether the key's part was prepared on the thread pool or computed in line", async () => {
    // A known value: the hash must not change for sensors already running with it.
    const inline = computeConfigHash({ ...BASE, hmacKey: "a-key-computed-in-line-0123456789" });
    await prepareConfigHashKey("a-key-prepared-on-the-pool-012345");
    const prepared = computeConfigHash({ ...BASE, hmacKey: "a-key-prepared-on-the-pool-012345" });
    expect(prepared).toMatch(/^[0-9a-f]{64}$/);
    expect(prepared).not.toBe(inline);
    expect(computeConfigHash({ ...BASE, hmacKey: "a-key-prepared-on-the-pool-012345" })).toBe(prepared);
  });

  it("is 64 hex digits and stable", () => {
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(computeConfigHash({ ...BASE })).toBe(hash);
  });

  it.each<[string, SensorSettings]>([
    ["field order", { clusterId: "c1", hmacKey: BASE.hmacKey, collectorHost: BASE.collectorHost }],
    ["an explicit default", { ...BASE, collectorPort: 443, debugLevel: 1, includeList: [] }],
    ["the key id defaulting to the cluster id", { ...BASE, keyId: "c1" }],
  ])("does not change with %s", (_name, settings) => {
    expect(computeConfigHash(settings)).toBe(hash);
  });

  it.each<[string, SensorSettings]>([
    ["another port", { ...BASE, collectorPort: 8443 }],
    ["another key", { ...BASE, hmacKey: "fedcba9876543210fedcba9876543210" }],
    ["a pattern list", { ...BASE, excludeList: ["^veth"] }],
    ["pattern order", { ...BASE, includeList: ["^a", "^b"] }],
    ["the debug level", { ...BASE, debugLevel: 2 }],
  ])("changes with %s", (_name, settings) => {
    expect(computeConfigHash(settings)).not.toBe(hash);
  });

  it("pattern order matters", () => {
    expect(computeConfigHash({ ...BASE, includeList: ["^a", "^b"] })).not.toBe(
      computeConfigHash({ ...BASE, includeList: ["^b", "^a"] }),
    );
  });

  it("does not contain the key or its plain SHA-256", () => {
    expect(hash).not.toContain(BASE.hmacKey);
  });
});

describe("canonicalJson", () => {
  it("sorts keys at every level and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"e":2,"f":1}]},"b":1}',
    );
  });
});
