import { describe, expect, it } from "vitest";
import { readPodCount } from "./rollout-form";

describe("readPodCount", () => {
  it.each([
    ["2", 2],
    [" 0 ", 0],
    ["25%", "25%"],
    ["two", "two"],
    ["", ""],
  ])("%j reads as %j", (text, value) => {
    expect(readPodCount(text)).toBe(value);
  });
});
