import { describe, expect, it } from "vitest";
import { formatNodeFilters, parseNodeFilters } from "./node-filters";

describe("node filters in the URL", () => {
  it.each([
    ["", { state: undefined, search: undefined, invalidState: null }],
    ["?state=excluded", { state: "excluded", search: undefined, invalidState: null }],
    ["?state=excluded&q=%20node-2%20", { state: "excluded", search: "node-2", invalidState: null }],
    ["?q=", { state: undefined, search: undefined, invalidState: null }],
    ["?state=happy&q=a", { state: undefined, search: "a", invalidState: "happy" }],
  ])("parses %s", (query, expected) => {
    expect(parseNodeFilters(new URLSearchParams(query))).toEqual(expected);
  });

  it("writes the filters back, keeping other parameters and dropping empty ones", () => {
    expect(formatNodeFilters({ state: "silent", search: " gpu " })).toBe("?state=silent&q=gpu");
    expect(
      formatNodeFilters({ state: undefined, search: "" }, new URLSearchParams("tab=x&state=covered")),
    ).toBe("?tab=x");
    expect(formatNodeFilters({ state: undefined, search: undefined })).toBe("");
  });

  it("round-trips", () => {
    const filters = { state: "crash-looping" as const, search: "node 7/ü" };
    expect(parseNodeFilters(new URLSearchParams(formatNodeFilters(filters)))).toMatchObject(filters);
  });
});
