// The real kubectl against a simulated cluster, as an operator would change
// it behind Tapfleet's back.

import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
let directory: Promise<string> | undefined;
/** One file per cluster object: simulators share a default name. */
const files = new WeakMap<object, string>();
let counter = 0;

/**
 * Runs kubectl with `args` against `target` (a kubeconfig file, or a
 * simulated cluster whose current kubeconfig is written out for the call) and
 * returns what it printed; a failure rejects with kubectl's stderr.
 */
export async function kubectl(target: string | { kubeconfig(): string }, ...args: string[]): Promise<string> {
  let file: string;
  if (typeof target === "string") file = target;
  else {
    directory ??= mkdtemp(path.join(tmpdir(), "tapfleet-kubectl-"));
    file = files.get(target) ?? path.join(await directory, `cluster-${++counter}.kubeconfig`);
    files.set(target, file);
    await writeFile(file, target.kubeconfig());
  }
  const { stdout } = await run("kubectl", ["--kubeconfig", file, ...args]);
  return stdout;
}

/** kubectl set env on the capture container of the sensor DaemonSet Tapfleet installs (tapfleet-sensor/tapfleet-sensor). */
export const setSensorEnv = (target: string | { kubeconfig(): string }, ...assignments: string[]) =>
  kubectl(
    target,
    "set",
    "env",
    "ds/tapfleet-sensor",
    "-n",
    "tapfleet-sensor",
    "-c",
    "capture",
    ...assignments,
  );
