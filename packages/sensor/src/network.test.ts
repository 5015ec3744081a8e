import { describe, expect, it } from "vitest";
import { bypassesProxy, hostCidr, proxyTarget } from "./network.ts";

describe("bypassesProxy", () => {
  it.each<[string, string[], boolean]>([
    ["collector.example.com", ["*"], true],
    ["collector.example.com", ["collector.example.com"], true],
    ["collector.example.com", [".example.com"], true],
    ["collector.example.com", ["example.com"], true],
    ["collector.example.com", ["*.example.com"], true],
    ["collector.example.com", ["other.com"], false],
    ["notexample.com", ["example.com"], false],
    ["10.1.2.3", ["10.0.0.0/8"], true],
    ["11.1.2.3", ["10.0.0.0/8"], false],
    ["10.1.2.3", ["10.1.2.3:443"], true],
    ["10.1.2.3", ["1.2.3"], false],
  ])("%s with %j → %s", (host, noProxy, expected) => {
    expect(bypassesProxy(host, noProxy)).toBe(expected);
  });
});

describe("proxyTarget", () => {
  it.each<[string, { host: string; port: number }]>([
    ["http://proxy.example:3128", { host: "proxy.example", port: 3128 }],
    ["http://proxy.example", { host: "proxy.example", port: 80 }],
    ["https://proxy.example", { host: "proxy.example", port: 443 }],
    ["http://user:secret@10.0.0.5:8080", { host: "10.0.0.5", port: 8080 }],
    ["http://[fd00::1]:3128", { host: "fd00::1", port: 3128 }],
  ])("%s → %j", (proxy, expected) => {
    expect(proxyTarget(proxy)).toEqual(expected);
  });
});

describe("hostCidr", () => {
  it.each<[string, string | undefined]>([
    ["10.20.30.40", "10.20.30.40/32"],
    ["fd00::1", "fd00::1/128"],
    ["ingest.example", undefined],
    ["10.20.30", undefined],
  ])("%s → %s", (host, expected) => {
    expect(hostCidr(host)).toBe(expected);
  });
});
