import { describe, expect, it } from "vitest";
import { appendLogLines, EMPTY_LOG_BUFFER, isScrolledToEnd } from "./log-buffer";

describe("appendLogLines", () => {
  it("appends, and drops the oldest lines beyond the limit, counting them", () => {
    const two = appendLogLines(EMPTY_LOG_BUFFER, ["a", "b"], 3);
    expect(two).toEqual({ lines: ["a", "b"], dropped: 0 });
    const four = appendLogLines(two, ["c", "d"], 3);
    expect(four).toEqual({ lines: ["b", "c", "d"], dropped: 1 });
    expect(appendLogLines(four, ["e", "f", "g", "h"], 3)).toEqual({ lines: ["f", "g", "h"], dropped: 5 });
  });

  it("keeps the same buffer when nothing is added", () => {
    expect(appendLogLines(EMPTY_LOG_BUFFER, [])).toBe(EMPTY_LOG_BUFFER);
  });
});

describe("isScrolledToEnd", () => {
  it.each([
    [{ scrollTop: 600, scrollHeight: 1000, clientHeight: 400 }, true],
    [{ scrollTop: 595, scrollHeight: 1000, clientHeight: 400 }, true],
    [{ scrollTop: 500, scrollHeight: 1000, clientHeight: 400 }, false],
    [{ scrollTop: 0, scrollHeight: 300, clientHeight: 400 }, true],
  ])("%o → %s", (box, expected) => {
    expect(isScrolledToEnd(box)).toBe(expected);
  });
});
