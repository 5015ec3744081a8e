import { describe, expect, it } from "vitest";
import { waitFor } from "./test-wait-for.ts";

describe("waitFor", () => {
  it("resolves with the first value that is not undefined", async () => {
    let checks = 0;
    const value = await waitFor(() => (++checks >= 3 ? `after ${checks} checks` : undefined), {
      what: "the third check",
      timeoutMs: 5000,
      intervalMs: 5,
    });
    expect(value).toBe("after 3 checks");
    expect(checks).toBe(3);
  });

  it("resolves with the first value `until` accepts, from an asynchronous check", async () => {
    let count = 0;
    const value = await waitFor(() => Promise.resolve(++count), {
      until: (n) => n >= 4,
      what: "four",
      timeoutMs: 5000,
      intervalMs: 5,
    });
    expect(value).toBe(4);
  });

  it("treats a check that throws as not yet", async () => {
    let checks = 0;
    const value = await waitFor(
      () => {
        checks++;
        if (checks < 3) throw new Error("connection refused");
        return "up";
      },
      { what: "the server", timeoutMs: 5000, intervalMs: 5 },
    );
    expect(value).toBe("up");
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      "the last value",
      () => ({ packets: 49 }),
      /^timed out after 100 ms waiting for 50 packets; the last check gave \{"packets":49\}$/,
    ],
    [
      "the last error",
      () => {
        throw new Error("ECONNREFUSED");
      },
      /^timed out after 100 ms waiting for 50 packets; the last check threw: ECONNREFUSED$/,
    ],
    [
      "a check that never finishes",
      () => new Promise(() => {}),
      /waiting for 50 packets; no check finished$/,
    ],
  ])("names what it waited for and %s when time is up", async (_name, check, message) => {
    await expect(
      waitFor(check, { until: () => false, what: "50 packets", timeoutMs: 100, intervalMs: 10 }),
    ).rejects.toThrow(message);
  });

  it("describes what it waited for only when time is up", async () => {
    let described = 0;
    const what = () => `attempt ${++described}`;
    await waitFor(() => true, { what, timeoutMs: 1000 });
    expect(described).toBe(0);
    await expect(waitFor(() => undefined, { what, timeoutMs: 50, intervalMs: 10 })).rejects.toThrow(
      "waiting for attempt 1; the last check gave undefined",
    );
  });
});
