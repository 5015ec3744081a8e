// A runtime that runs nothing: a container "runs" until the kubelet's crash
// rules make it exit after `crashAfterMs`, on the injected clock.

import type { Clock, KubeObject } from "../../types.ts";
import type {
  ContainerRuntime,
  CrashSpec,
  RunningContainer,
  StartContainerOptions,
} from "./container-runtime.ts";
import type { ProbeResult } from "./probes.ts";

export interface FakeRuntimeOptions {
  clock: Clock;
  /** How long a crashing container runs before it exits. */
  crashAfterMs: number;
  /** How long a container takes to stop after SIGTERM (at most the grace period). Default 0: at once. */
  stopAfterMs?: number;
  /** An exec probe's verdict (default: success): how tests script a container's readiness. */
  execProbe?: ExecProbeHook | undefined;
}

export type ExecProbeHook = (ctx: {
  pod: KubeObject;
  container: { name: string; image: string };
  env: Record<string, string>;
  command: readonly string[];
}) => ProbeResult | Promise<ProbeResult>;

export function createFakeRuntime({
  clock,
  crashAfterMs,
  stopAfterMs = 0,
  execProbe,
}: FakeRuntimeOptions): ContainerRuntime {
  return {
    pull: () => undefined,

    start({ pod, name, image, env, logs, crash, exited }: StartContainerOptions): RunningContainer {
      let pending: { cancel(): void } | undefined;
      const scheduleCrash = (spec: CrashSpec): void => {
        pending = clock.setTimeout(() => {
          pending = undefined;
          const exitCode = spec.exitCode ?? 1;
          if (spec.message) logs.append(`${spec.message}\n`);
          logs.append(`kube-sim: container ${name} exited with code ${exitCode}\n`);
          exited(exitCode);
        }, crashAfterMs);
      };
      const cancel = (): void => {
        pending?.cancel();
        pending = undefined;
      };

      logs.append(`kube-sim: container ${name} started (image ${image})\n`);
      const spec = crash();
      if (spec) scheduleCrash(spec);

      return {
        setCrash(next) {
          if (next === false) {
            if (!pending) return false;
            cancel();
            return true;
          }
          if (pending) return false;
          scheduleCrash(next);
          return true;
        },
        terminate(graceMs) {
          cancel();
          if (stopAfterMs <= 0) return undefined;
          return new Promise<void>((resolve) => {
            clock.setTimeout(resolve, Math.min(stopAfterMs, graceMs));
          });
        },
        kill() {
          cancel();
          return Promise.resolve();
        },
        async exec(command) {
          return (await execProbe?.({ pod, container: { name, image }, env, command })) ?? { ok: true };
        },
      };
    },
  };
}
