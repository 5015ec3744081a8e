// Readiness probes as the kubelet runs them: an exec probe's command in the
// running container, first after initialDelaySeconds, then every
// periodSeconds (never two at once), each limited to timeoutSeconds; the
// container turns ready after successThreshold successes in a row and not
// ready after failureThreshold failures in a row, on the kubelet's clock.
// Only exec probes are run: the simulator has no network namespace to send an
// httpGet, tcpSocket or grpc probe into, so a container with one of those is
// ready as soon as it runs, as before probes were run at all.

import type { Clock } from "../../types.ts";

type Json = Record<string, unknown>;

/** One probe's verdict; `output` is what the kubelet puts in the Unhealthy event. */
export type ProbeResult = { ok: true } | { ok: false; output: string };

export interface ExecProbeSpec {
  command: string[];
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

const seconds = (value: unknown, fallback: number, min: number): number =>
  typeof value === "number" && Number.isFinite(value) && value >= min ? value : fallback;

/**
 * The container's exec readiness probe with the API's defaults filled in
 * (period 10 s, timeout 1 s, thresholds 1 and 3); undefined when it has none
 * the simulator runs.
 */
export function readinessProbeSpec(container: Json): ExecProbeSpec | undefined {
  const probe = container.readinessProbe;
  if (typeof probe !== "object" || probe === null) return undefined;
  const spec = probe as Json;
  const exec = spec.exec as Json | undefined;
  const command = Array.isArray(exec?.command) ? exec.command.map(String) : [];
  if (command.length === 0) return undefined;
  return {
    command,
    initialDelayMs: seconds(spec.initialDelaySeconds, 0, 0) * 1000,
    periodMs: seconds(spec.periodSeconds, 10, 1) * 1000,
    timeoutMs: seconds(spec.timeoutSeconds, 1, 1) * 1000,
    successThreshold: seconds(spec.successThreshold, 1, 1),
    failureThreshold: seconds(spec.failureThreshold, 3, 1),
  };
}

export interface StartProbeWorkerOptions {
  clock: Clock;
  spec: ExecProbeSpec;
  /** Runs the command once; resolves to its verdict (a timeout is a failure). */
  run: () => Promise<ProbeResult>;
  /** The container's readiness changed. */
  onReadyChange: (ready: boolean) => void;
  /** A probe failed (the kubelet's Unhealthy event). */
  onFailure: (output: string) => void;
  onError?: (err: unknown) => void;
}

/** Probes until cancelled; the container starts not ready. */
export function startProbeWorker(options: StartProbeWorkerOptions): { cancel(): void } {
  const { clock, spec } = options;
  let ready = false;
  let successes = 0;
  let failures = 0;
  let cancelled = false;
  let timer: { cancel(): void } | undefined;

  const settle = (result: ProbeResult): void => {
    if (result.ok) {
      failures = 0;
      successes++;
      if (!ready && successes >= spec.successThreshold) {
        ready = true;
        options.onReadyChange(true);
      }
    } else {
      successes = 0;
      failures++;
      options.onFailure(result.output);
      if (ready && failures >= spec.failureThreshold) {
        ready = false;
        options.onReadyChange(false);
      }
    }
  };

  const tick = (): void => {
    timer = undefined;
    if (cancelled) return;
    const began = clock.now();
    void options
      .run()
      .then(
        (result) => {
          if (!cancelled) settle(result);
        },
        (err: unknown) => options.onError?.(err),
      )
      .finally(() => {
        if (!cancelled) timer = clock.setTimeout(tick, Math.max(0, spec.periodMs - (clock.now() - began)));
      });
  };

  timer = clock.setTimeout(tick, spec.initialDelayMs);
  return {
    cancel() {
      cancelled = true;
      timer?.cancel();
      timer = undefined;
    },
  };
}
