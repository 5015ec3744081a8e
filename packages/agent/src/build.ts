// Bundles the agent into one ESM file, dist/tapfleet-agent.mjs. The sensor
// contract ships as TypeScript source (workspace packages point at src),
// which tsc cannot emit into a runnable tree, so esbuild bundles it together
// with zod; only the native `pcap` binding stays outside, loaded
// at run time. Type checking is tsgo's job (`npm run typecheck` at the root).
// Not part of the agent itself: run with `npm run build -w @tapfleet/agent`.

import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const packageRoot = fileURLToPath(new URL("..", import.meta.url));
export const AGENT_BUNDLE_PATH = path.join(packageRoot, "dist", "tapfleet-agent.mjs");

export async function buildAgentBundle(outfile: string = AGENT_BUNDLE_PATH): Promise<void> {
  // The capture thread's code goes inside the bundle as a string (a worker
  // started with `eval`), so the agent stays one file.
  const worker = await build({
    entryPoints: [path.join(packageRoot, "src", "capture-worker.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["pcap"],
    minifySyntax: true,
    legalComments: "none",
    logLevel: "warning",
    write: false,
  });
  const result = await build({
    entryPoints: [path.join(packageRoot, "src", "main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["pcap"],
    minifySyntax: true,
    legalComments: "none",
    define: { TAPFLEET_CAPTURE_WORKER_SOURCE: JSON.stringify(worker.outputFiles[0]!.text) },
    // Bundled CommonJS (debug, through https-proxy-agent) calls require() for node built-ins.
    banner: {
      js: 'import { createRequire as __tapfleetCreateRequire } from "node:module"; const require = __tapfleetCreateRequire(import.meta.url);',
    },
    logLevel: "warning",
    write: false,
  });
  // Written atomically: test files build in parallel and must never run half a file.
  await mkdir(path.dirname(outfile), { recursive: true });
  for (const file of result.outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    await writeFile(temporary, file.contents);
    await chmod(temporary, 0o755);
    await rename(temporary, file.path);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await buildAgentBundle();
}
