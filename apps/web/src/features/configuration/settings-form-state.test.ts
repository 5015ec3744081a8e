import { describe, expect, it } from "vitest";
import {
  FIELD_GROUPS,
  PROFILE_FIELDS,
  describeFieldErrors,
  formValuesFromSettings,
  readSettingsForm,
} from "./settings-form-state";

const valid = { collectorHost: "collector.example.com" };

describe("the profile editor's form", () => {
  it("covers every profile setting once, in a group", () => {
    const grouped = FIELD_GROUPS.flatMap((group) => group.keys).sort();
    expect(grouped).toEqual(PROFILE_FIELDS.map((spec) => spec.key).sort());
  });

  it("round-trips stored settings through the variables' text", () => {
    const settings = {
      ...valid,
      includeList: ["^eth", "^ens"],
      noProxy: ["10.0.0.0/8", ".svc"],
      captureNewDevices: true,
      debugLevel: 3,
    };
    const values = formValuesFromSettings(settings);
    expect(values.includeList).toBe("^eth ^ens");
    expect(values.noProxy).toBe("10.0.0.0/8,.svc");
    expect(values.captureNewDevices).toBe("1");
    expect(values.bpf).toBe("");
    expect(readSettingsForm(values)).toEqual({ ok: true, settings });
  });

  it.each([
    ["bpf", "tcp and", /^BPF: "tcp and" is not a valid filter/],
    [
      "excludeList",
      "^veth[0-9",
      /^NETWORK_DEVICE_EXCLUDELIST: pattern "\^veth\[0-9" is not a valid egrep expression/,
    ],
    ["collectorHost", "https://collector.example.com", /^VSENSOR_HOSTNAME: .* includes a URL scheme/],
    ["debugLevel", "7", /^OSSENSOR_DEBUG: must be between 0 and 5; got 7/],
    ["collectorPort", "8o", /^VSENSOR_PORT: "8o" is not a whole number/],
  ])("refuses %s = %j at its field", (key, raw, message) => {
    const result = readSettingsForm({ ...formValuesFromSettings(valid), [key]: raw });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors[key]).toMatch(message);
  });

  it("needs the collector host in a profile but not in an override", () => {
    expect(readSettingsForm({}).ok).toBe(false);
    expect(readSettingsForm({ debugLevel: "2" }, "override")).toEqual({
      ok: true,
      settings: { debugLevel: 2 },
    });
  });
});

describe("describeFieldErrors", () => {
  it.each([
    [{}, undefined],
    [{ collectorHost: "VSENSOR_HOSTNAME: is required" }, "Fix Collector host above."],
    [{ collectorHost: "x", bpf: "y" }, "Fix Collector host and BPF filter above."],
    [
      { collectorHost: "x", bpf: "y", debugLevel: "z" },
      "Fix Collector host, BPF filter and Debug level above.",
    ],
  ] as const)("%j", (errors, expected) => {
    expect(describeFieldErrors(errors)).toBe(expected);
  });
});
