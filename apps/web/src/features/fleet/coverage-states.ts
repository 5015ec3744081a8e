// The coverage vocabulary as the dashboard shows it: one colour, icon and label per state, used
// by the Fleet page, the Cluster page and their filters alike.
import {
  IconAlertTriangle,
  IconBan,
  IconCircleCheck,
  IconClockHour4,
  IconCloudOff,
  IconHourglassHigh,
  IconPlugConnectedX,
  IconRefreshAlert,
  IconServerOff,
  type Icon,
} from "@tabler/icons-react";
import type { CoverageStateSeverity } from "@tapfleet/api";
import type { RouterOutputs } from "@/lib/trpc";

export type CoverageState = RouterOutputs["inventory"]["nodes"]["items"][number]["state"];

export interface CoverageStateStyle {
  label: string;
  /** A Mantine colour. */
  color: string;
  icon: Icon;
  /** What the state means, for a tooltip. */
  meaning: string;
  /** Something to look at: shown first, counted as a problem. */
  problem: boolean;
}

/** Keyed by every state the API knows: the type checker refuses a missing or unknown one. */
export const COVERAGE_STATE_STYLES: Record<CoverageState, CoverageStateStyle> = {
  "crash-looping": {
    label: "crash-looping",
    color: "red",
    icon: IconRefreshAlert,
    meaning: "The sensor's container keeps crashing and restarting.",
    problem: true,
  },
  silent: {
    label: "silent",
    color: "orange",
    icon: IconCloudOff,
    meaning: "The sensor runs but its reports stopped arriving.",
    problem: true,
  },
  unreachable: {
    label: "unreachable",
    color: "grape",
    icon: IconPlugConnectedX,
    meaning: "The cluster's API cannot be reached: the last known state is shown.",
    problem: true,
  },
  pending: {
    label: "pending",
    color: "yellow",
    icon: IconHourglassHigh,
    meaning: "The sensor's pod is waiting to be scheduled or to start.",
    problem: true,
  },
  "not-scheduled": {
    label: "not-scheduled",
    color: "pink",
    icon: IconAlertTriangle,
    meaning: "The node should run a sensor but no pod was created for it.",
    problem: true,
  },
  "node-not-ready": {
    label: "node-not-ready",
    color: "gray",
    icon: IconServerOff,
    meaning: "The node itself is not ready.",
    problem: true,
  },
  starting: {
    label: "starting",
    color: "blue",
    icon: IconClockHour4,
    meaning: "The sensor runs and has not sent its first report yet.",
    problem: false,
  },
  covered: {
    label: "covered",
    color: "green",
    icon: IconCircleCheck,
    meaning: "The sensor runs and reports.",
    problem: false,
  },
  excluded: {
    label: "excluded",
    color: "dark",
    icon: IconBan,
    meaning: "The DaemonSet does not target this node (a selector, an affinity or a taint).",
    problem: false,
  },
};

/**
 * Every state, problems first, in the order lists and filters show them and the server sorts by
 * state: typed by the server's own order, so the two cannot differ.
 */
export const COVERAGE_STATE_ORDER: CoverageStateSeverity = [
  "crash-looping",
  "silent",
  "unreachable",
  "pending",
  "not-scheduled",
  "node-not-ready",
  "starting",
  "covered",
  "excluded",
];

export function isCoverageState(value: unknown): value is CoverageState {
  return typeof value === "string" && Object.hasOwn(COVERAGE_STATE_STYLES, value);
}

/** How many node × DaemonSet pairs are in a problem state. */
export function problemCount(counts: Partial<Record<string, number>>): number {
  return COVERAGE_STATE_ORDER.filter((state) => COVERAGE_STATE_STYLES[state].problem).reduce(
    (sum, state) => sum + (counts[state] ?? 0),
    0,
  );
}
