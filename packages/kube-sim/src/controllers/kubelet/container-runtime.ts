// What the kubelet asks of a container runtime. Two implement it: the fake
// runtime (fake-runtime.ts) pretends, and crashes only when told to; the process
// runtime (process-runtime.ts) really runs each container's command.

import type { KubeObject } from "../../types.ts";
import type { LogBuffer } from "./container-logs.ts";
import type { ProbeResult } from "./probes.ts";

/** How a crashing container ends. */
export interface CrashSpec {
  exitCode?: number;
  /** Written to the container log before it exits. */
  message?: string;
}

export interface StartContainerOptions {
  pod: KubeObject;
  name: string;
  image: string;
  /** The resolved environment. */
  env: Record<string, string>;
  /** Where this instance's output goes. */
  logs: LogBuffer;
  /** Whether (and how) the kubelet's crash rules want this container to crash; asked only by the fake runtime. */
  crash: () => CrashSpec | undefined;
  /** Called once when the container ends by itself (not after `kill` or `terminate`). */
  exited: (exitCode: number) => void;
}

export interface RunningContainer {
  /**
   * Starts crashing now (a spec) or stops a pending crash (`false`); returns
   * whether it changed anything. A real process decides its own exits and ignores it.
   */
  setCrash(crash: CrashSpec | false): boolean;
  /**
   * Graceful stop: SIGTERM, SIGKILL when still running after `graceMs` on the
   * kubelet's clock. Resolves once it has ended; undefined when nothing was running.
   */
  terminate(graceMs: number): Promise<void> | undefined;
  /** Stops it at once (pod deleted, kubelet stopped); resolves once it has ended. */
  kill(): Promise<void>;
  /** Runs an exec probe's command in the container; a timeout (on the kubelet's clock) is a failure. */
  exec(command: readonly string[], timeoutMs: number): Promise<ProbeResult>;
}

export interface ContainerRuntime {
  /** Why the image cannot be pulled (the Failed event's message), or undefined when it can. */
  pull(image: string): string | undefined;
  start(options: StartContainerOptions): RunningContainer;
}
