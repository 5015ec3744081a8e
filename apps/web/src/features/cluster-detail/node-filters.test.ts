import { describe, expect, it } from "vitest";
import { describeSort, formatNodeFilters, nextSort, parseNodeFilters } from "./node-filters";

const defaults = { clusters: undefined, sort: "node", order: "asc", invalid: [] };

describe("node filters in the URL", () => {
  it.each([
    ["", { ...defaults, state: undefined, search: undefined }],
    ["?state=excluded", { ...defaults, state: "excluded", search: undefined }],
    ["?state=excluded&q=%20node-2%20", { ...defaults, state: "excluded", search: "node-2" }],
    ["?q=", { ...defaults, state: undefined, search: undefined }],
    [
      "?state=happy&q=a",
      { ...defaults, state: undefined, search: "a", invalid: [{ name: "state", value: "happy" }] },
    ],
    [
      "?cluster=eu&cluster=us&cluster=eu&sort=since&order=desc",
      {
        ...defaults,
        clusters: ["eu", "us"],
        sort: "since",
        order: "desc",
        state: undefined,
        search: undefined,
      },
    ],
    [
      "?sort=packets&order=up",
      {
        ...defaults,
        state: undefined,
        search: undefined,
        invalid: [
          { name: "sort", value: "packets" },
          { name: "order", value: "up" },
        ],
      },
    ],
  ])("parses %s", (query, expected) => {
    expect(parseNodeFilters(new URLSearchParams(query))).toEqual(expected);
  });

  it("writes the filters back, keeping other parameters and dropping empty ones and the default sort", () => {
    expect(formatNodeFilters({ state: "silent", search: " gpu " })).toBe("?state=silent&q=gpu");
    expect(
      formatNodeFilters(
        { state: undefined, search: "" },
        new URLSearchParams("tab=x&state=covered&sort=state"),
      ),
    ).toBe("?tab=x");
    expect(formatNodeFilters({ state: undefined, search: undefined, sort: "node", order: "asc" })).toBe("");
    expect(
      formatNodeFilters({
        clusters: ["eu", "us"],
        state: undefined,
        search: undefined,
        sort: "node",
        order: "desc",
      }),
    ).toBe("?cluster=eu&cluster=us&sort=node&order=desc");
  });

  it("round-trips", () => {
    const filters = {
      clusters: ["eu-west", "us"],
      state: "crash-looping" as const,
      search: "node 7/ü",
      sort: "state" as const,
      order: "desc" as const,
    };
    expect(parseNodeFilters(new URLSearchParams(formatNodeFilters(filters)))).toEqual({
      ...filters,
      invalid: [],
    });
  });
});

describe("sorting by a column's header", () => {
  it("turns the current column around, and starts another from its natural end", () => {
    expect(nextSort({ sort: "node", order: "asc" }, "node")).toEqual({ sort: "node", order: "desc" });
    expect(nextSort({ sort: "node", order: "desc" }, "node")).toEqual({ sort: "node", order: "asc" });
    expect(nextSort({ sort: "node", order: "desc" }, "state")).toEqual({ sort: "state", order: "asc" });
    expect(nextSort({ sort: "state", order: "asc" }, "since")).toEqual({ sort: "since", order: "desc" });
  });

  it("says what the rows are sorted by", () => {
    expect(describeSort("state", "asc")).toBe("by state, problems first");
    expect(describeSort("since", "desc")).toBe("by since, newest first");
    expect(describeSort("node", "asc")).toBe("by node name");
    expect(describeSort("cluster", "desc")).toBe("by cluster, Z to A");
  });
});
