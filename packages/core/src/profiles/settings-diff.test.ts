import { describe, expect, it } from "vitest";
import { diffProfileSettings, effectiveSettings, type PartialSettings } from "./settings-diff.ts";

describe("diffProfileSettings", () => {
  const base = { collectorHost: "collector.example.com" };
  const cases: Array<{ name: string; from: PartialSettings; to: PartialSettings; expected: unknown[] }> = [
    { name: "identical settings", from: base, to: { ...base }, expected: [] },
    {
      name: "a changed value",
      from: { ...base, debugLevel: 1 },
      to: { ...base, debugLevel: 4 },
      expected: [
        { setting: "debugLevel", variable: "OSSENSOR_DEBUG", kind: "changed", from: 1, to: 4, default: 1 },
      ],
    },
    {
      name: "unset on one side, the default on the other: no difference",
      from: base,
      to: { ...base, debugLevel: 1, collectorPort: 443, includeList: [] },
      expected: [],
    },
    {
      name: "an added value that is not the default",
      from: base,
      to: { ...base, bpf: "tcp port 443" },
      expected: [
        { setting: "bpf", variable: "BPF", kind: "added", from: null, to: "tcp port 443", default: "" },
      ],
    },
    {
      name: "a removed value falls back to its default",
      from: { ...base, excludeList: ["^veth"] },
      to: base,
      expected: [
        {
          setting: "excludeList",
          variable: "NETWORK_DEVICE_EXCLUDELIST",
          kind: "removed",
          from: ["^veth"],
          to: null,
          default: [],
        },
      ],
    },
    {
      name: "lists compare by content and order",
      from: { ...base, includeList: ["^eth", "^ens"] },
      to: { ...base, includeList: ["^ens", "^eth"] },
      expected: [expect.objectContaining({ setting: "includeList", kind: "changed" })],
    },
    {
      name: "a setting without a default, removed",
      from: { ...base, httpsProxy: "http://proxy:3128" },
      to: base,
      expected: [expect.objectContaining({ setting: "httpsProxy", kind: "removed", default: null })],
    },
    {
      name: "several changes come in the contract's order",
      from: { ...base, bpf: "tcp", debugLevel: 2 },
      to: { collectorHost: "eu.example.com", bpf: "udp", debugLevel: 2 },
      expected: [
        expect.objectContaining({
          setting: "collectorHost",
          from: "collector.example.com",
          to: "eu.example.com",
        }),
        expect.objectContaining({ setting: "bpf", from: "tcp", to: "udp" }),
      ],
    },
  ];
  it.each(cases)("$name", ({ from, to, expected }) => {
    expect(diffProfileSettings({ from, to })).toEqual(expected);
  });
});

describe("effectiveSettings", () => {
  const revision = {
    number: 3,
    settings: { collectorHost: "collector.example.com", debugLevel: 2, bpf: "tcp" },
  };
  const pick = (settings: ReturnType<typeof effectiveSettings>, key: string) =>
    settings.find((item) => item.setting === key);

  it.each([
    {
      key: "collectorHost",
      value: "eu.example.com",
      label: "override for prod-eu",
      overridden: "collector.example.com",
    },
    { key: "debugLevel", value: 2, label: "profile r3", overridden: null },
    { key: "bpf", value: "", label: "override for prod-eu", overridden: "tcp" },
    { key: "collectorPort", value: 443, label: "default", overridden: null },
    { key: "httpsProxy", value: null, label: "not set", overridden: null },
  ])("$key comes from $label", ({ key, value, label, overridden }) => {
    const settings = effectiveSettings({
      revision,
      override: { clusterId: "prod-eu", settings: { collectorHost: "eu.example.com", bpf: "" } },
    });
    expect(pick(settings, key)).toMatchObject({ value, source: { label }, overridden });
  });

  it("without an override, lists every profile setting but the cluster's own", () => {
    const settings = effectiveSettings({ revision });
    expect(settings.map((item) => item.setting)).not.toContain("hmacKey");
    expect(settings.map((item) => item.setting)).not.toContain("clusterId");
    expect(pick(settings, "collectorHost")?.source).toEqual({
      kind: "profile",
      revision: 3,
      label: "profile r3",
    });
  });
});
