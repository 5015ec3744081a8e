// Which reports of a batch are stored: pure decisions, taken in arrival order
// on what the batch's first statement returned (the nonces it inserted and the
// state of the sensors it locked).
import type { StatsReport } from "@tapfleet/sensor";

export type WriteOutcome = "stored" | "duplicate" | "replayed";

/** A sensor as locked in the database: its row id and the newest report it has stored. */
export interface SensorState {
  id: string;
  /** Agent start of the newest stored report, epoch ms. */
  agentStartedAt: number;
  lastSequence: bigint;
}

/** The key of a sensor within a batch: cluster and node name. */
export function nodeKey(agent: { clusterId: string; nodeName: string }): string {
  return `${agent.clusterId}\u0000${agent.nodeName}`;
}

/** The key of a nonce within a batch: key id and nonce. */
export function nonceKey(request: { keyId: string; nonce: string }): string {
  return `${request.keyId}\u0000${request.nonce}`;
}

/**
 * Marks each request "stored" whose nonce the insert returned as fresh, and
 * "replayed" the rest: a nonce the insert skipped was seen before (here or on
 * another replica), and a nonce used twice within the batch is fresh only the
 * first time.
 */
export function judgeNonces(options: {
  batch: readonly { keyId: string; nonce: string }[];
  /** The (key id, nonce) pairs the insert returned. */
  fresh: readonly (readonly [keyId: string, nonce: string])[];
}): ("stored" | "replayed")[] {
  const fresh = new Set(options.fresh.map(([keyId, nonce]) => nonceKey({ keyId, nonce })));
  return options.batch.map((request) => {
    const key = nonceKey(request);
    if (!fresh.has(key)) return "replayed";
    fresh.delete(key);
    return "stored";
  });
}

export interface DedupedReports {
  /** One per request, in order: "stored" only for a report that is new for its sensor. */
  outcomes: WriteOutcome[];
  /** The reports to insert, by index into the batch, in arrival order. */
  stored: { index: number; sensorId: string }[];
  /** The newest stored report of each sensor that has one, in sensor id order (the order the rows are locked in). */
  latest: { index: number; sensorId: string }[];
}

/**
 * In arrival order, tells new reports from resends. A report whose agent
 * start equals the sensor's and whose sequence is not newer is a resend whose
 * answer was lost: it is acknowledged ("duplicate") but not stored. Requests
 * already "replayed" stay so. Every sensor of a fresh report must be in
 * `sensors` (a node seen for the first time gets its placeholder row first).
 */
export function dedupeReports(options: {
  batch: readonly { report: StatsReport }[];
  /** What `judgeNonces` answered for the batch. */
  nonces: readonly WriteOutcome[];
  sensors: ReadonlyMap<string, SensorState>;
}): DedupedReports {
  const outcomes = [...options.nonces];
  const newest = new Map<string, { agentStartedAt: number; lastSequence: bigint }>();
  const stored: DedupedReports["stored"] = [];
  const latest = new Map<string, { index: number; sensorId: string }>();
  options.batch.forEach(({ report }, index) => {
    if (outcomes[index] !== "stored") return;
    const key = nodeKey(report.agent);
    const sensor = options.sensors.get(key);
    if (!sensor) throw new Error(`dedupeReports: no state for node ${report.agent.nodeName}`);
    const before = newest.get(key) ?? sensor;
    const sequence = BigInt(report.agent.sequence);
    if (before.agentStartedAt === report.agent.startedAt && sequence <= before.lastSequence) {
      outcomes[index] = "duplicate";
      return;
    }
    newest.set(key, { agentStartedAt: report.agent.startedAt, lastSequence: sequence });
    stored.push({ index, sensorId: sensor.id });
    latest.set(key, { index, sensorId: sensor.id });
  });
  return {
    outcomes,
    stored,
    latest: [...latest.values()].sort((a, b) => (a.sensorId < b.sensorId ? -1 : 1)),
  };
}
