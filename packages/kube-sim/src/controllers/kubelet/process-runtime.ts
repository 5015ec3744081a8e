// A runtime that runs each container as a local child process, chosen by image
// name: its exit is the container's crash, its stdout/stderr the container log.

import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import type { Clock } from "../../types.ts";
import type { ContainerRuntime, RunningContainer, StartContainerOptions } from "./container-runtime.ts";
import { imageRepository } from "./images.ts";
import type { ProbeResult } from "./probes.ts";

/** The kubelet keeps this much of a probe's output for its event. */
const PROBE_OUTPUT_BYTES = 10 * 1024;

export interface ImageCommand {
  command: string;
  args?: string[];
  /** Extra environment for this image (the pod's env wins). */
  env?: Record<string, string>;
}

export type SpawnFunction = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface ProcessRuntimeOptions {
  clock: Clock;
  /** Image name (with or without tag) → command. */
  imageTable?: Record<string, ImageCommand> | undefined;
  /** Environment every container starts with (e.g. PATH). */
  baseEnv?: Record<string, string> | undefined;
  /** Injectable spawn for tests. */
  spawn?: SpawnFunction | undefined;
}

/** Signals the container's whole process group; a no-op once it is gone. */
function signalContainer(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // ESRCH: the group has no processes left.
  }
}

const running = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

export function createProcessRuntime(options: ProcessRuntimeOptions): ContainerRuntime {
  const { clock } = options;
  const spawn: SpawnFunction =
    options.spawn ?? ((command, args, spawnOptions) => nodeSpawn(command, args, spawnOptions));
  const commandFor = (image: string): ImageCommand | undefined =>
    options.imageTable?.[image] ?? options.imageTable?.[imageRepository(image)];

  return {
    pull(image) {
      return commandFor(image)
        ? undefined
        : `Failed to pull image "${image}": image not in the simulator's image table`;
    },

    start({ pod, image, env, logs, exited }: StartContainerOptions): RunningContainer {
      const command = commandFor(image);
      if (!command) throw new Error(`image ${image} was started without being pulled`);
      // A container sees only its own environment, not the simulator's (ProcessEnv typing insists on more).
      const fullEnv = { ...options.baseEnv, HOSTNAME: pod.metadata.name ?? "", ...command.env, ...env };
      /** The process while the kubelet still cares for its exit. */
      let child: ChildProcess | undefined;
      let failedStart: { cancel(): void } | undefined;
      try {
        // Its own process group, like a container's PID namespace: signals reach
        // every process the container started, not only the first.
        child = spawn(command.command, command.args ?? [], {
          env: fullEnv as unknown as NodeJS.ProcessEnv,
          stdio: ["ignore", "pipe", "pipe"],
          detached: true,
        });
      } catch (err) {
        logs.append(`${(err as Error).message}\n`);
        failedStart = clock.setTimeout(() => exited(128), 0);
      }
      if (child) {
        const started = child;
        started.stdout?.on("data", (chunk: Buffer) => logs.append(chunk.toString()));
        started.stderr?.on("data", (chunk: Buffer) => logs.append(chunk.toString()));
        started.on("error", (err) => {
          logs.append(`${err.message}\n`);
        });
        // The container ends when its first process exits (as with PID 1 in a real
        // container), even if a process it started still holds the output pipes:
        // what is left of the group is killed, as a container runtime would.
        started.on("exit", (code, signal) => {
          signalContainer(started, "SIGKILL");
          if (child !== started) return;
          child = undefined;
          exited(code ?? (signal ? 128 + (signal === "SIGKILL" ? 9 : 15) : 1));
        });
      }

      /** Forgets the process (its exit is no crash any more) and returns it when still running. */
      const release = (): ChildProcess | undefined => {
        failedStart?.cancel();
        failedStart = undefined;
        const current = child;
        child = undefined;
        return current && running(current) ? current : undefined;
      };

      return {
        setCrash: () => false,

        terminate(graceMs) {
          const current = release();
          if (!current) return undefined;
          const gone = new Promise<void>((resolve) => current.once("exit", () => resolve()));
          const escalate = clock.setTimeout(() => {
            if (running(current)) signalContainer(current, "SIGKILL");
          }, graceMs);
          current.once("exit", () => escalate.cancel());
          signalContainer(current, "SIGTERM");
          return gone;
        },

        exec(probeCommand, timeoutMs) {
          // In the container's environment, in a process group of its own, as `kubectl exec` would run it.
          return new Promise<ProbeResult>((resolve) => {
            let output = "";
            let settled = false;
            const finish = (result: ProbeResult): void => {
              if (settled) return;
              settled = true;
              timer.cancel();
              resolve(result);
            };
            const collect = (data: Buffer): void => {
              if (output.length < PROBE_OUTPUT_BYTES) output += data.toString();
            };
            let probe: ChildProcess;
            try {
              probe = spawn(probeCommand[0] ?? "", probeCommand.slice(1), {
                env: fullEnv as unknown as NodeJS.ProcessEnv,
                stdio: ["ignore", "pipe", "pipe"],
                detached: true,
              });
            } catch (err) {
              resolve({ ok: false, output: (err as Error).message });
              return;
            }
            const timer = clock.setTimeout(() => {
              signalContainer(probe, "SIGKILL");
              finish({
                ok: false,
                output: `command ${JSON.stringify(probeCommand.join(" "))} timed out`,
              });
            }, timeoutMs);
            probe.stdout?.on("data", collect);
            probe.stderr?.on("data", collect);
            probe.once("error", (err) => finish({ ok: false, output: err.message }));
            probe.once("close", (code) =>
              finish(code === 0 ? { ok: true } : { ok: false, output: output.slice(0, PROBE_OUTPUT_BYTES) }),
            );
          });
        },

        kill() {
          const current = release();
          if (!current) return Promise.resolve();
          const gone = new Promise<void>((resolve) => current.once("exit", () => resolve()));
          signalContainer(current, "SIGTERM");
          // Give it the usual moment, then make sure.
          const t = setTimeout(() => {
            if (running(current)) signalContainer(current, "SIGKILL");
          }, 2_000);
          t.unref();
          return gone;
        },
      };
    },
  };
}
