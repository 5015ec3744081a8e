import { describe, expect, it } from "vitest";
import { activeNavHref } from "./nav-active";

const hrefs = ["/fleet", "/clusters", "/nodes", "/sensors", "/settings", "/settings/users"];

describe("activeNavHref", () => {
  it.each([
    ["/fleet", "/fleet"],
    ["/clusters", "/clusters"],
    ["/clusters/prod-eu", "/clusters"],
    ["/clusters/prod-eu/nodes/node-1", "/nodes"],
    ["/clusters/prod-eu/nodes", "/nodes"],
    ["/nodes", "/nodes"],
    ["/sensors/3f2a", "/sensors"],
    ["/settings/users", "/settings/users"],
    ["/settings", "/settings"],
    ["/clustersx", undefined],
    ["/", undefined],
  ])("%s belongs to %s", (pathname, expected) => {
    expect(activeNavHref(pathname, hrefs)).toBe(expected);
  });
});
