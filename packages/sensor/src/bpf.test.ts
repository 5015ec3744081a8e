import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkBpfFilter } from "./bpf.ts";

describe("checkBpfFilter accepts", () => {
  it.each([
    "",
    "   ",
    "not port 80",
    "tcp port 443",
    "host 10.0.0.1 and (port 80 or port 443)",
    "port 80 or 443",
    "host foo or bar",
    "src net 10.0.0.0/8 and not dst host 10.1.2.3",
    "ether host 00:11:22:33:44:55",
    "ip6 and udp portrange 5000-5100",
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "ip[2:2] > 576",
    "len-1 > 100",
    "vlan and (tcp or udp)",
    "!(icmp or icmp6)",
    "greater 1000 && less 2000",
    "not arp and not stp",
    "ip proto \\tcp",
  ])("%j", (expression) => {
    expect(checkBpfFilter(expression)).toEqual({ ok: true });
  });
});

describe("checkBpfFilter rejects", () => {
  it.each([
    ["(port 80", "unmatched (", 0],
    ["port 80)", "unmatched )", 7],
    ["tcp[13 & 2 != 0", "unmatched [", 3],
    ["port 80 and", '"and" needs an expression after it', 8],
    ["and port 80", '"and" needs an expression before it', 0],
    ["port 80 and or port 81", '"or" needs an expression before it', 12],
    ["not", '"not" needs an expression after it', 0],
    ["()", "empty parentheses", 0],
    ["prot 80", 'unknown primitive "prot"', 0],
    ["tcp and (pot 80)", 'unknown primitive "pot"', 9],
    ["port 80 ; rm", "unexpected character", 8],
    ["port 80 and (host 1.2.3.4 or)", "operator before )", 28],
    ["host caf\u00e9", "not printable ASCII", 8],
  ])("%j: %s", (expression, message, index) => {
    const result = checkBpfFilter(expression);
    expect(result).toMatchObject({ ok: false, index });
    expect(!result.ok && result.message).toContain(message);
  });
});

describe("checkBpfFilter never rejects what libpcap compiles", () => {
  const accepted = readFileSync(new URL("./fixtures/libpcap-accepted.txt", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"));

  it(`accepts all ${accepted.length} recorded expressions`, () => {
    expect(accepted.length).toBeGreaterThan(100);
    const rejected = accepted.filter((expression) => !checkBpfFilter(expression).ok);
    expect(rejected).toEqual([]);
  });
});
