import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir } from "../test/support/run.ts";
import { buildAgentBundle } from "./build.ts";

describe("buildAgentBundle", () => {
  it("leaves the manifests, the YAML library and the password checker out of the agent", async () => {
    const outfile = path.join(scratchDir("agent-bundle"), "tapfleet-agent.mjs");
    await buildAgentBundle(outfile);
    const bundle = await readFile(outfile, "utf8");
    // esbuild marks where each bundled module starts with a comment naming its path.
    const modules = [...bundle.matchAll(/^\/\/ (\S+\.[cm]?[jt]s)$/gm)].map((match) => match[1]);
    expect(modules).toContain("packages/sensor/src/network.ts");
    expect(modules.filter((module) => module?.startsWith("node_modules/yaml/"))).toEqual([]);
    expect(modules.filter((module) => module?.startsWith("packages/sensor/src/manifests"))).toEqual([]);
    expect(bundle).not.toContain("YAMLParseError");
    // The account rules share the sensor contract, but the agent has no passwords to judge.
    expect(modules.filter((module) => module?.includes("@zxcvbn-ts/"))).toEqual([]);
    expect(modules).not.toContain("packages/sensor/src/accounts.ts");
  });
});
