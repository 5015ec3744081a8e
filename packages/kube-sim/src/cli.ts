// `npm run sim -- --nodes 3 --kubeconfig ./sim.kubeconfig`: runs one simulated
// cluster in the foreground until SIGINT/SIGTERM, for kubectl or the app to use.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import type { ImageCommand } from "./cluster.ts";
import { startSimCluster, type StartSimClusterOptions } from "./index.ts";

const USAGE = `usage: npm run sim -- --nodes N --kubeconfig FILE [--port P] [--kubelet fake|process] [--image-table FILE] [--token T] [--ready-delay-ms MS]`;

/** How long a signal waits for the cluster (API server, controllers, kubelet processes) to stop. */
const STOP_TIMEOUT_MS = 10_000;

/** A one-line error naming the flag at fault; printed without a stack. */
class UsageError extends Error {
  override readonly name = "UsageError";
}

function integerFlag(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** Reads an image table: a JSON or YAML map of image → { command, args?, env? }. */
async function readImageTable(path: string): Promise<Record<string, ImageCommand>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(
      `--image-table: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new UsageError(
      `--image-table: ${path} is not valid JSON or YAML: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--image-table: ${path} must map image names to { command, args?, env? }`);
  }
  const table: Record<string, ImageCommand> = {};
  for (const [image, entry] of Object.entries(parsed as Record<string, unknown>)) {
    const e = entry as Partial<ImageCommand> | null;
    const argsOk =
      e?.args === undefined || (Array.isArray(e.args) && e.args.every((a) => typeof a === "string"));
    const envOk =
      e?.env === undefined ||
      (typeof e.env === "object" &&
        e.env !== null &&
        Object.values(e.env).every((v) => typeof v === "string"));
    if (!e || typeof e.command !== "string" || !argsOk || !envOk) {
      throw new UsageError(
        `--image-table: entry "${image}" needs a string "command", optional string list "args" and string map "env"`,
      );
    }
    table[image] = {
      command: e.command,
      ...(e.args ? { args: e.args } : {}),
      ...(e.env ? { env: e.env } : {}),
    };
  }
  return table;
}

/** Parses and validates the command line into cluster options and the kubeconfig path. */
async function parseCommandLine(
  argv: string[],
): Promise<{ options: StartSimClusterOptions; nodes: number; kubeconfig: string } | "help"> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        nodes: { type: "string" },
        kubeconfig: { type: "string" },
        port: { type: "string" },
        kubelet: { type: "string" },
        "image-table": { type: "string" },
        token: { type: "string" },
        "ready-delay-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0] ?? "invalid arguments");
  }
  if (values.help) return "help";
  if (values.nodes === undefined)
    throw new UsageError("--nodes is required (how many nodes the cluster has)");
  if (values.kubeconfig === undefined || values.kubeconfig === "")
    throw new UsageError("--kubeconfig is required (where to write the kubeconfig)");
  const nodes = integerFlag("nodes", values.nodes, 0, 5000)!;
  const port = integerFlag("port", values.port, 0, 65535);
  const readyDelayMs = integerFlag("ready-delay-ms", values["ready-delay-ms"], 0, 600_000);
  const kubelet = values.kubelet ?? "fake";
  if (kubelet !== "fake" && kubelet !== "process")
    throw new UsageError(`--kubelet must be "fake" or "process", got "${kubelet}"`);
  if (values["image-table"] !== undefined && kubelet !== "process")
    throw new UsageError("--image-table only applies with --kubelet process");
  if (values.token !== undefined && !/^[\x21-\x7e]+$/.test(values.token))
    throw new UsageError("--token must be printable ASCII without spaces");
  const imageTable =
    values["image-table"] === undefined ? undefined : await readImageTable(values["image-table"]);
  return {
    kubeconfig: resolve(values.kubeconfig),
    nodes,
    options: {
      nodes,
      kubelet,
      ...(port !== undefined ? { port } : {}),
      ...(readyDelayMs !== undefined ? { readyDelayMs } : {}),
      ...(imageTable ? { imageTable } : {}),
      ...(values.token !== undefined ? { token: values.token } : {}),
    },
  };
}

async function main(): Promise<void> {
  const parsed = await parseCommandLine(process.argv.slice(2));
  if (parsed === "help") {
    console.log(USAGE);
    return;
  }
  const cluster = await startSimCluster(parsed.options);
  await cluster.writeKubeconfig(parsed.kubeconfig);
  console.log(`kube-sim: ${parsed.nodes} node(s) at ${cluster.url}`);
  console.log(`kubeconfig: ${parsed.kubeconfig}  (try: kubectl --kubeconfig ${parsed.kubeconfig} get nodes)`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal means "now": do not wait for a stop that hangs.
      console.error(`kube-sim: ${signal} again, exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    console.log(`kube-sim: ${signal}, stopping`);
    const deadline = setTimeout(() => {
      console.error(`kube-sim: still stopping after ${STOP_TIMEOUT_MS / 1000} s, exiting anyway`);
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    cluster.stop().then(
      () => {
        clearTimeout(deadline);
        process.exit(0);
      },
      (error: unknown) => {
        console.error("kube-sim: stopping failed:", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) console.error(`kube-sim: ${error.message}\n${USAGE}`);
  else console.error("kube-sim:", error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
