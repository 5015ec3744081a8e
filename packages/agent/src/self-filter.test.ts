import { describe, expect, it } from "vitest";
import { selfExcludingFilter } from "./self-filter.ts";

describe("selfExcludingFilter", () => {
  const resolve = (host: string): Promise<string[]> =>
    host === "collector.example"
      ? Promise.resolve(["10.0.0.5", "fd00::5"])
      : Promise.reject(new Error(`ENOTFOUND ${host}`));

  it("leaves out TCP to the peer's addresses and port, after the user's filter", async () => {
    expect(
      await selfExcludingFilter("udp port 53", { host: "collector.example", port: 443 }, resolve),
    ).toEqual({
      expression: "(udp port 53) and not (tcp and (host 10.0.0.5 or host fd00::5) and port 443)",
      excluded: "not (tcp and (host 10.0.0.5 or host fd00::5) and port 443)",
    });
    expect((await selfExcludingFilter("", { host: "192.0.2.1", port: 8080 }, resolve)).expression).toBe(
      "not (tcp and (host 192.0.2.1) and port 8080)",
    );
  });

  it("keeps the user's filter alone when the peer cannot be resolved", async () => {
    expect(await selfExcludingFilter("tcp", { host: "nowhere.example", port: 443 }, resolve)).toEqual({
      expression: "tcp",
      problem: "ENOTFOUND nowhere.example",
    });
  });
});
