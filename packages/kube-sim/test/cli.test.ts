// The `npm run sim` entry point, run as a process: flag validation, then a
// cluster kubectl can use, stopped cleanly by SIGTERM.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireKubectl } from "./helpers.ts";

const CLI = resolve(import.meta.dirname, "../src/cli.ts");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kube-sim-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[]): {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill: (signal: NodeJS.Signals) => void;
  stdoutHas: (text: string) => Promise<void>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const watchers: Array<{ text: string; resolve: () => void }> = [];
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const w of watchers.filter((w) => stdout.includes(w.text))) w.resolve();
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveDone) =>
    child.on("exit", (code) => resolveDone({ code, stdout, stderr })),
  );
  return {
    done,
    kill: (signal) => child.kill(signal),
    stdoutHas: (text) =>
      stdout.includes(text)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((r) => watchers.push({ text, resolve: r })),
            done.then(({ stderr: err }) =>
              Promise.reject(new Error(`cli exited before printing "${text}": ${err}`)),
            ),
          ]),
  };
}

describe("kube-sim CLI", () => {
  it.each([
    [["--kubeconfig", "x"], "kube-sim: --nodes is required (how many nodes the cluster has)"],
    [
      ["--nodes", "two", "--kubeconfig", "x"],
      'kube-sim: --nodes must be an integer from 0 to 5000, got "two"',
    ],
    [
      ["--nodes", "2", "--kubeconfig", "x", "--kubelet", "docker"],
      'kube-sim: --kubelet must be "fake" or "process", got "docker"',
    ],
    [
      ["--nodes", "2", "--kubeconfig", "x", "--kubelet", "process", "--image-table", "/nonexistent.yaml"],
      "kube-sim: --image-table: cannot read /nonexistent.yaml: ENOENT",
    ],
  ])("rejects %j with one line naming the flag", async (args, message) => {
    const { code, stderr } = await run(args).done;
    expect(code).toBe(2);
    expect(stderr.split("\n")[0]).toBe(message);
  });

  it("starts a cluster kubectl can use and stops on SIGTERM", async () => {
    await requireKubectl();
    const kubeconfig = join(dir, "kubeconfig");
    const cli = run(["--nodes", "2", "--kubeconfig", kubeconfig]);
    await cli.stdoutHas(`kubeconfig: ${kubeconfig}`);
    const nodes = await new Promise<string>((resolveNodes, reject) => {
      const kubectl = spawn("kubectl", [
        "--kubeconfig",
        kubeconfig,
        "--cache-dir",
        join(dir, "cache"),
        "get",
        "nodes",
        "-o",
        "name",
      ]);
      let out = "";
      kubectl.stdout.on("data", (c: Buffer) => (out += c.toString()));
      kubectl.on("exit", (code) =>
        code === 0 ? resolveNodes(out) : reject(new Error(`kubectl exited ${code}`)),
      );
    });
    expect(nodes).toBe("node/node-1\nnode/node-2\n");
    cli.kill("SIGTERM");
    const { code, stdout } = await cli.done;
    expect(code).toBe(0);
    expect(stdout).toContain("kube-sim: SIGTERM, stopping");
  });
});
