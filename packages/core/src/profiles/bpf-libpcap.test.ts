// libpcap itself compiles: the suite's machines have libpcap and node_pcap's binding.
import { describe, expect, it } from "vitest";
import { checkBpfFilter } from "@tapfleet/sensor/bpf";
import { compileBpfWithLibpcap } from "./bpf-libpcap.ts";

describe("compileBpfWithLibpcap", () => {
  it.each([
    "",
    "tcp port 443",
    "not (udp port 53 or icmp)",
    "vlan and tcp",
    "net 10.0.0.0/8 and portrange 8000-8100",
  ])("accepts %j", (filter) => {
    expect(compileBpfWithLibpcap(filter)).toEqual({ ok: true });
  });

  it.each([
    ["tcp port 99999", /illegal port number 99999/],
    ["host", /syntax error/],
    ["tcp and", /syntax error/],
  ])("refuses %j with libpcap's words", (filter, message) => {
    const result = compileBpfWithLibpcap(filter);
    expect(result).toMatchObject({ ok: false, reason: "invalid" });
    expect(result.ok === false && result.message).toMatch(message);
  });

  it("refuses what the contract's pre-check lets through", () => {
    // The pre-check says yes when in doubt; libpcap is the judge.
    expect(checkBpfFilter("tcp port 99999")).toEqual({ ok: true });
    expect(compileBpfWithLibpcap("tcp port 99999").ok).toBe(false);
  });
});
