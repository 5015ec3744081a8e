// The health gate after each cluster's change, and the baseline it compares
// with: pure, so each rule is a row of a table (gate.test.ts).
//
// The rule: what was healthy before the change must stay healthy. A node
// whose pod was Ready before must run the new template and be Ready; if its
// agent was reporting before, the new agent must report (its reports are
// stored only when their signature is valid), and if it was capturing, the new
// agent's packet counter must move, with a drop rate not far above the one
// before. A node whose agent never reported is judged on Kubernetes readiness
// alone, so clusters whose agents cannot reach Tapfleet can still be changed.
// Every pod must also be available (Ready for the DaemonSet's minReadySeconds).
// A node that was unhealthy before is not held against the change. An updated
// pod that crashes fails the gate at once — a container that has ended since
// the change is a crash, whether the kubelet shows it terminated, restarted or
// already in CrashLoopBackOff; anything else not yet met waits, and fails at
// the deadline, naming any crash it saw.
//
// What the deadline is for: a change that leaves the agent running but never
// Ready (a wrong collector port, say) is not a crash, and nothing tells "not
// Ready yet" (an image still pulling, a slow first report) from "never" before
// the deadline. It costs no more nodes: the agent's readiness (its last report
// accepted) with the DaemonSet's minReadySeconds stops Kubernetes' own rolling
// update at maxUnavailable nodes, so the rest keep capturing while the gate
// waits. (Old pods that are not available when the change lands are replaced
// at once, by Kubernetes' rule, without counting against maxUnavailable.)

import type { RolloutProgress } from "@tapfleet/kube";

/** How a container ended, as the kubelet reports it (the message: the termination message or the log's tail). */
export interface ContainerEnd {
  reason: string | null;
  message: string | null;
  exitCode: number | null;
}

/** What the leader sees of one node: its sensor pod now, and the agent's latest report. */
export interface NodeHealth {
  nodeName: string;
  podName: string | null;
  /** The pod runs the template the rollout applied. */
  updated: boolean;
  ready: boolean;
  /** The capture container's waiting reason (CrashLoopBackOff, ImagePullBackOff, …), if it waits. */
  waitingReason: string | null;
  restarts: number;
  /** The capture container's current state when it has ended and has not been started again yet. */
  terminated: ContainerEnd | null;
  /** The end of the container's previous run (lastState.terminated). */
  lastTermination: ContainerEnd | null;
  /** The latest report of the agent on this node, whichever pod sent it; null when none ever came. */
  agent: { podName: string; lastSeenAt: Date; packets: number; drops: number } | null;
}

/** One node before the change. */
export interface NodeBaseline {
  nodeName: string;
  ready: boolean;
  /** Its agent (the pod running then) had reported recently. */
  reporting: boolean;
  /** …and had captured packets. */
  capturing: boolean;
  /** Dropped ÷ (captured + dropped) in the agent's totals; null when nothing was counted. */
  dropRate: number | null;
}

export type GateVerdict =
  { verdict: "pass" } | { verdict: "wait"; pending: string[] } | { verdict: "fail"; reason: string };

/** A report older than this does not count as "reporting" when the baseline is measured. */
export const REPORT_FRESH_MS = 90_000;
/** How much the drop rate may rise (absolute, 0.1 = ten points) before the gate calls it collapsing. */
export const DROP_RATE_TOLERANCE = 0.1;

/** Waiting reasons of a container that will not start by itself. */
const BROKEN_WAITING_REASONS = new Set([
  "CrashLoopBackOff",
  "ImagePullBackOff",
  "ErrImagePull",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
]);

const dropRate = (packets: number, drops: number) => (packets + drops > 0 ? drops / (packets + drops) : null);
const percent = (rate: number) => `${Math.round(rate * 100)}%`;

/** The nodes as they are before the change. */
export function measureHealthBaseline(options: { nodes: readonly NodeHealth[]; now: Date }): NodeBaseline[] {
  return options.nodes.map((node) => {
    const agent = node.agent;
    const reporting =
      agent !== null &&
      node.podName !== null &&
      agent.podName === node.podName &&
      options.now.getTime() - agent.lastSeenAt.getTime() <= REPORT_FRESH_MS;
    return {
      nodeName: node.nodeName,
      ready: node.ready && node.waitingReason === null,
      reporting,
      capturing: reporting && agent.packets > 0,
      dropRate: reporting ? dropRate(agent.packets, agent.drops) : null,
    };
  });
}

/** Whether the container is down now: waiting in a broken state, or ended and not started again. */
const crashingNow = (node: NodeHealth) =>
  (node.waitingReason !== null && BROKEN_WAITING_REASONS.has(node.waitingReason)) || node.terminated !== null;

/** Whether the node's capture container shows a crash: it waits in a broken state, has ended, or has restarted. */
function showsCrash(node: NodeHealth): boolean {
  return crashingNow(node) || node.restarts > 0 || node.lastTermination !== null;
}

/**
 * "CrashLoopBackOff, exit code 1, last message: …", "Error, exit code 2, restarted 1 time, last message: …"
 * (the message: the last lines of the termination message, which is the log's tail for the sensor).
 */
function describeCrashOf(node: NodeHealth): string {
  const ended = node.terminated ?? node.lastTermination;
  const broken =
    node.waitingReason !== null && BROKEN_WAITING_REASONS.has(node.waitingReason) ? node.waitingReason : null;
  const restarts = `restarted ${node.restarts} time${node.restarts === 1 ? "" : "s"}`;
  const parts = [broken ?? ended?.reason ?? (node.terminated ? "terminated" : restarts)];
  const exitCode = ended?.exitCode;
  if (exitCode !== null && exitCode !== undefined) parts.push(`exit code ${exitCode}`);
  if (broken === null && node.restarts > 0 && parts[0] !== restarts) parts.push(restarts);
  const lines = (ended?.message ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const message = lines.slice(-2).join(" | ");
  if (message) parts.push(`last message: ${message.length > 300 ? `…${message.slice(-300)}` : message}`);
  return parts.join(", ");
}

/** "node-3: CrashLoopBackOff, exit code 1, last message: …" */
const describeCrash = (node: NodeHealth) => `${node.nodeName}: ${describeCrashOf(node)}`;

function listFew(items: readonly string[], max = 3): string {
  if (items.length <= max) return items.join("; ");
  return `${items.slice(0, max).join("; ")}; and ${items.length - max} more`;
}

/**
 * The gate's verdict on one cluster now. `changedAt`: when the new template
 * was applied (reports from before it do not count); `deadline`: when waiting
 * turns into failing.
 */
export function judgeClusterGate(options: {
  baseline: readonly NodeBaseline[];
  nodes: readonly NodeHealth[];
  rollout: RolloutProgress;
  changedAt: Date;
  deadline: Date;
  now: Date;
}): GateVerdict {
  const { rollout, changedAt } = options;
  const before = new Map(options.baseline.map((node) => [node.nodeName, node]));
  // A node that appeared since the change has no baseline: judged as a healthy node that never reported.
  const baselineOf = (nodeName: string): NodeBaseline =>
    before.get(nodeName) ?? { nodeName, ready: true, reporting: false, capturing: false, dropRate: null };

  const crashed = options.nodes.filter(
    (node) => node.updated && baselineOf(node.nodeName).ready && showsCrash(node),
  );
  if (crashed.length > 0) return { verdict: "fail", reason: listFew(crashed.map(describeCrash)) };

  const pending: string[] = [];
  /** What waits on a node that crashes: first in the list, so the deadline's reason names the crash. */
  const crashes: string[] = [];
  if (!rollout.observed) pending.push("the DaemonSet controller has not seen the change yet");
  else if (rollout.updated < rollout.desired)
    pending.push(`${rollout.updated} of ${rollout.desired} pods run the new template`);

  // Available is Ready for the DaemonSet's minReadySeconds: an agent that dies a moment after it
  // starts is caught here. Nodes that were unhealthy before are not counted against the change.
  const excused = options.nodes.filter((node) => !baselineOf(node.nodeName).ready).length;
  if (rollout.observed && rollout.available < rollout.desired - excused)
    pending.push(`${rollout.available} of ${rollout.desired} pods available (Ready for minReadySeconds)`);

  for (const node of options.nodes) {
    const was = baselineOf(node.nodeName);
    if (!was.ready) continue;
    if (!node.updated) {
      // Its pod crashes now on the old template (or one the rollout cannot tell is the new): said
      // first. Restarts alone may be older than the change, so they are not held against it here.
      if (crashingNow(node))
        crashes.push(`${node.nodeName}: still on the old template (${describeCrashOf(node)})`);
      else pending.push(`${node.nodeName}: still on the old template`);
      continue;
    }
    if (!node.ready) {
      pending.push(`${node.nodeName}: not Ready${node.waitingReason ? ` (${node.waitingReason})` : ""}`);
      continue;
    }
    if (!was.reporting) continue;
    const agent = node.agent;
    if (
      agent === null ||
      agent.podName !== node.podName ||
      agent.lastSeenAt.getTime() < changedAt.getTime()
    ) {
      pending.push(`${node.nodeName}: no report from the new agent (it reported before the change)`);
      continue;
    }
    if (was.capturing && agent.packets <= 0) {
      pending.push(`${node.nodeName}: the new agent captures nothing (it captured before the change)`);
      continue;
    }
    const rate = dropRate(agent.packets, agent.drops);
    if (was.dropRate !== null && rate !== null && rate > was.dropRate + DROP_RATE_TOLERANCE)
      pending.push(`${node.nodeName}: drop rate ${percent(rate)} (was ${percent(was.dropRate)})`);
  }
  const waitingFor = [...crashes, ...pending];
  if (waitingFor.length === 0) return { verdict: "pass" };
  if (options.now.getTime() >= options.deadline.getTime()) {
    const seconds = Math.round((options.deadline.getTime() - changedAt.getTime()) / 1000);
    return { verdict: "fail", reason: `not healthy within ${seconds} s: ${listFew(waitingFor)}` };
  }
  return { verdict: "wait", pending: waitingFor };
}
