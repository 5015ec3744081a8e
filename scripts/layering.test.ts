// The import-layering check (.dependency-cruiser.cjs) must pass on the tree and
// must fail on an upward import and on a cycle.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const depcruise = path.join(root, "node_modules/.bin/depcruise");
const config = path.join(root, ".dependency-cruiser.cjs");
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function cruise(cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(depcruise, ["--config", config, "apps", "packages"], { cwd });
    return { code: 0, output: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

async function fixture(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "tapfleet-layers-"));
  dirs.push(dir);
  const all = {
    "tsconfig.json": '{"compilerOptions":{"allowImportingTsExtensions":true,"noEmit":true}}',
    "apps/.keep": "",
    ...files,
  };
  for (const [file, content] of Object.entries(all)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  return dir;
}

describe("import layering", () => {
  it("passes on the repository", async () => {
    const result = await cruise(root);
    expect(result.output).toContain("no dependency violations found");
    expect(result.code).toBe(0);
  }, 120_000);

  it("fails when a package imports a package above it", async () => {
    const dir = await fixture({
      "packages/sensor/src/settings.ts":
        'import { x } from "../../core/src/domain.ts";\nexport const y = x;\n',
      "packages/core/src/domain.ts": "export const x = 1;\n",
    });
    const result = await cruise(dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(
      /layer-sensor: packages\/sensor\/src\/settings\.ts → packages\/core\/src\/domain\.ts/,
    );
  }, 60_000);

  it("fails on an import cycle", async () => {
    const dir = await fixture({
      "packages/db/src/a.ts": 'import { b } from "./b.ts";\nexport const a = () => b;\n',
      "packages/db/src/b.ts": 'import { a } from "./a.ts";\nexport const b = () => a;\n',
    });
    const result = await cruise(dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("no-circular");
  }, 60_000);

  it("fails when the dashboard imports server code", async () => {
    const dir = await fixture({
      "apps/web/src/page.ts":
        'import { x } from "../../../packages/core/src/domain.ts";\nexport const y = x;\n',
      "packages/core/src/domain.ts": "export const x = 1;\n",
    });
    const result = await cruise(dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("web-imports-only-api-and-sensor");
  }, 60_000);
});
