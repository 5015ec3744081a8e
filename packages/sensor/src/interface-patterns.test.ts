import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkPatternList, matchInterfaces, splitPatternList, translateEre } from "./interface-patterns.ts";

// Expected results recorded from GNU grep 3.8: `printf '%s\n' NAME | grep -qE PATTERN`.
const GREP_E_MATCHES: Array<[pattern: string, name: string, matches: boolean]> = [
  ["^eth", "eth0", true],
  ["^eth", "eth1", true],
  ["^eth", "veth1", false],
  ["^eth", "ens3", false],
  ["^veth", "veth12ab", true],
  ["^veth", "eth0", false],
  ["eth7", "eth7", true],
  ["eth7", "eth70", true],
  ["eth7", "veth7", true],
  ["eth7", "eth1", false],
  ["^eth[0-9]+$", "eth0", true],
  ["^eth[0-9]+$", "eth12", true],
  ["^eth[0-9]+$", "eth0.100", false],
  ["^eth[0-9]+$", "ethx", false],
  ["^en[[:alpha:]]+[[:digit:]]", "ens3", true],
  ["^en[[:alpha:]]+[[:digit:]]", "enp0s3", true],
  ["^en[[:alpha:]]+[[:digit:]]", "en0", false],
  ["^en[[:alpha:]]+[[:digit:]]", "eth0", false],
  ["^(cali|flannel)", "cali123", true],
  ["^(cali|flannel)", "flannel.1", true],
  ["^(cali|flannel)", "cni0", false],
  ["[^a-z]", "abc", false],
  ["[^a-z]", "ab1", true],
  ["[]a]", "]x", true],
  ["[]a]", "bbb", false],
  ["[]a]", "a", true],
  ["[^]a]", "]]]", false],
  ["[^]a]", "aaa", false],
  ["[^]a]", "b", true],
  ["\\.100$", "eth0.100", true],
  ["\\.100$", "eth0100", false],
  ["a{2}", "aa", true],
  ["a{2}", "a", false],
  ["a{,2}b", "b", true],
  ["a{,2}b", "aab", true],
  ["a{,2}b", "ccc", false],
  ["x{1}{2}", "xx", true],
  ["x{1}{2}", "x", false],
  ["a**", "b", true],
  ["*abc", "*abc", true],
  ["*abc", "abc", true],
  ["+a", "+a", true],
  ["+a", "a", true],
  ["\\<eth", "eth0", true],
  ["\\<eth", "veth0", false],
  ["\\<eth", "my-eth", true],
  ["eth0\\>", "eth0", true],
  ["eth0\\>", "eth0a", false],
  ["eth0\\>", "eth0.1", true],
  ["\\beth", "eth0", true],
  ["\\beth", "veth0", false],
  ["\\wx", "ax", true],
  ["\\wx", "-x", false],
  ["[[=e=]]th", "eth0", true],
  ["[[.-.]]", "a-b", true],
  ["[[.-.]]", "ab", false],
  ["[\\d]", "\\", true],
  ["[\\d]", "d", true],
  ["[\\d]", "1", false],
  ["(a|)b", "b", true],
  ["(a|)b", "ab", true],
  ["()", "anything", true],
  ["docker0", "docker0", true],
  ["^lo$", "lo", true],
  ["^lo$", "lo0", false],
  ["(ab|ac)+$", "xabac", true],
  ["(ab|ac)+$", "xad", false],
  ["[a-c-]", "-", true],
  ["[a-c-]", "d", false],
  ["^[^.]+$", "eth0", true],
  ["^[^.]+$", "eth0.1", false],
  ["^.$", "a", true],
  ["^.$", "ab", false],
  ["[[:punct:]]", "a.b", true],
  ["[[:punct:]]", "ab", false],
  ["[[:space:]]", "ab", false],
  ["[[:upper:]][[:lower:]]", "Ab", true],
  ["[[:upper:]][[:lower:]]", "ab", false],
  ["[[:xdigit:]]{4}", "beef", true],
  ["[[:xdigit:]]{4}", "bxxf", false],
  ["a|*b", "*b", true],
  ["a|*b", "b", true],
  ["(*a)", "*a", true],
  ["(*a)", "a", true],
];

describe("translateEre agrees with grep -E", () => {
  it.each(GREP_E_MATCHES)("%j on %j → %s", (pattern, name, matches) => {
    const result = translateEre(pattern);
    if (!result.ok) throw new Error(result.message);
    expect(result.regex.test(name)).toBe(matches);
  });
});

// Patterns GNU grep -E rejects (exit status 2), and the three we reject on purpose.
const REJECTED: Array<[pattern: string, messagePart: string]> = [
  ["(ab", "unmatched ("],
  ["[ab", "unmatched ["],
  ["[a-", "unmatched ["],
  ["[[:alpha:]", "unmatched ["],
  ["\\1", "back-reference"],
  ["a{3,2}", "minimum is larger"],
  ["a{}", "invalid content of {}"],
  ["a{1,2,3}", "invalid content of {}"],
  ["a{99999}", "above 32767"],
  ["[[:foo:]]", "invalid character class name"],
  ["[:digit:]", "[[:space:]], not [:space:]"],
  ["[[.space.]]", "invalid collation character"],
  ["[z-a]", "backwards"],
  ["[a-[:digit:]]", "invalid range end"],
  ["[[:digit:]-z]", "invalid range end"],
  ["x\\", "trailing backslash"],
  // Stricter than GNU grep on purpose (documented in the README):
  ["(a)\\1", "back-reference"],
  ["ab)", "unmatched )"],
  ["eth\\d", "[[:digit:]]"],
  ["\\n", "not an egrep escape"],
  ["a{x", "write \\{ for a literal brace"],
  ["a{2", "write \\{ for a literal brace"],
  ["^*x", "after an anchor"],
  ["\\<?eth", "after an anchor"],
  ["(*)", "nothing to repeat"],
  ["(a|*)", "nothing to repeat"],
];

describe("translateEre rejects", () => {
  it.each(REJECTED)("%j", (pattern, messagePart) => {
    const result = translateEre(pattern);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(messagePart);
  });
});

describe("translateEre warnings", () => {
  it.each([
    ["*abc", "repeats nothing"],
    ["{1}x", "repeats nothing"],
  ])("%j warns", (pattern, part) => {
    const result = translateEre(pattern);
    expect(result.ok && result.warnings.join("\n")).toContain(part);
  });

  it("has no warnings for ordinary patterns", () => {
    const result = translateEre("^eth[0-9]+$");
    expect(result.ok && result.warnings).toEqual([]);
  });
});

describe("pattern lists", () => {
  it("splits on any whitespace", () => {
    expect(splitPatternList("  ^eth\t^ens\n cali  ")).toEqual(["^eth", "^ens", "cali"]);
    expect(splitPatternList("")).toEqual([]);
  });

  it("names the bad pattern and the position", () => {
    const result = checkPatternList("^eth (veth");
    expect(result).toEqual({ ok: false, problems: [expect.stringContaining('pattern "(veth"')] });
    expect(!result.ok && result.problems[0]).toContain("at character 1");
  });
});

describe("matchInterfaces", () => {
  const names = ["lo", "eth0", "eth1", "eth7", "veth1a", "veth2b", "cni0", "docker0"];
  it.each([
    {
      case: "no lists: all but loopback",
      include: [],
      exclude: [],
      selected: ["eth0", "eth1", "eth7", "veth1a", "veth2b", "cni0", "docker0"],
    },
    {
      case: "include keeps only matches",
      include: ["^eth"],
      exclude: [],
      selected: ["eth0", "eth1", "eth7"],
    },
    {
      case: "exclude drops matches",
      include: [],
      exclude: ["^veth"],
      selected: ["eth0", "eth1", "eth7", "cni0", "docker0"],
    },
    {
      case: "exclude wins over include (seed example)",
      include: ["^eth"],
      exclude: ["eth7"],
      selected: ["eth0", "eth1"],
    },
    {
      case: "several patterns: any matches",
      include: ["^eth0$", "^cni"],
      exclude: [],
      selected: ["eth0", "cni0"],
    },
    {
      case: "loopback when asked for explicitly",
      include: ["^lo$", "^eth0$"],
      exclude: [],
      selected: ["lo", "eth0"],
    },
    {
      case: "POSIX classes",
      include: ["^eth[[:digit:]]$"],
      exclude: ["[[:digit:]]a$"],
      selected: ["eth0", "eth1", "eth7"],
    },
  ])("$case", ({ include, exclude, selected }) => {
    expect(matchInterfaces({ names, include, exclude }).selected).toEqual(selected);
  });

  it("gives a reason for every skipped interface", () => {
    const result = matchInterfaces({ names, include: ["^eth", "^veth"], exclude: ["^veth2"] });
    expect(result.skipped).toEqual([
      { name: "lo", reason: "not_included" },
      { name: "veth2b", reason: "excluded" },
      { name: "cni0", reason: "not_included" },
      { name: "docker0", reason: "not_included" },
    ]);
  });

  it("pins one device by exact name and ignores the lists", () => {
    const result = matchInterfaces({ names, include: ["^veth"], device: "eth1" });
    expect(result.selected).toEqual(["eth1"]);
    expect(result.skipped).toHaveLength(names.length - 1);
    expect(matchInterfaces({ names, device: "eth" }).selected).toEqual([]);
  });

  it("throws on an invalid pattern, naming the list", () => {
    expect(() => matchInterfaces({ names, exclude: ["(veth"] })).toThrow(/NETWORK_DEVICE_EXCLUDELIST/);
  });
});

// 2,667 random patterns run through GNU grep 3.8 (see the fixture's generatedWith).
const FUZZ = JSON.parse(readFileSync(new URL("./fixtures/grep-e-fuzz.json", import.meta.url), "utf8")) as {
  names: string[];
  cases: Array<[pattern: string, grep: string]>;
};

// Our deliberate departures from GNU grep; anything else we reject must be rejected by grep too.
const DELIBERATE = [
  /^unmatched \)/,
  /^\\[A-Za-z] is not an egrep escape/,
  /^back-reference/,
  /^\{ does not start/,
  /after an anchor/,
];

describe("translateEre against random patterns run through grep -E", () => {
  it("never accepts what grep rejects, and agrees on every match when both accept", () => {
    const problems: string[] = [];
    for (const [pattern, grep] of FUZZ.cases) {
      const result = translateEre(pattern);
      if (grep === "ERR") {
        if (result.ok) problems.push(`${JSON.stringify(pattern)}: grep rejects, we accept`);
        continue;
      }
      if (!result.ok) {
        if (
          !DELIBERATE.some((reason) => reason.test(result.message)) &&
          !/invalid content/.test(result.message)
        ) {
          problems.push(`${JSON.stringify(pattern)}: grep accepts, we reject: ${result.message}`);
        }
        continue;
      }
      const ours = FUZZ.names.map((name) => (result.regex.test(name) ? "1" : "0")).join("");
      if (ours !== grep) problems.push(`${JSON.stringify(pattern)}: grep ${grep}, ours ${ours}`);
    }
    expect(problems).toEqual([]);
  });
});
