// Which interfaces each node would capture with given settings, from the
// interface lists the agents report: the agent's own selection function
// (matchInterfaces of the sensor contract), so the preview cannot disagree
// with what the agent will do.

import { matchInterfaces, type InterfaceSkipReason } from "@tapfleet/sensor/interface-patterns";

export interface PreviewNode {
  clusterId: string;
  nodeName: string;
  /** When the interfaces were reported; null before the agent's first stored report. */
  reportedAt: Date | null;
  /** Every interface of the node; null when its agent does not report them (an older agent, or no report yet). */
  interfaces: string[] | null;
}

export interface PreviewSettings {
  includeList?: readonly string[] | undefined;
  excludeList?: readonly string[] | undefined;
  networkDevice?: string | undefined;
}

export interface InterfacePreview {
  clusterId: string;
  nodeName: string;
  reportedAt: Date | null;
  /** False when the agent did not report its interfaces: nothing to preview. */
  known: boolean;
  interfaces: Array<{ name: string; captured: boolean; reason: InterfaceSkipReason | null }>;
}

/** What a skip reason means, for people. */
export const SKIP_REASON_TEXT: Record<InterfaceSkipReason, string> = {
  loopback: "loopback (include it by name to capture it)",
  not_included: "matches no NETWORK_DEVICE_INCLUDELIST pattern",
  excluded: "matches a NETWORK_DEVICE_EXCLUDELIST pattern",
  not_the_device: "OSSENSOR_NETWORK_DEVICE names another interface",
};

/**
 * Per node, every reported interface with whether the settings capture it and
 * why not. `settingsFor` gives each cluster's settings (the profile merged
 * with that cluster's override). Pure; settings must be valid.
 */
export function previewInterfaceCapture(options: {
  nodes: readonly PreviewNode[];
  settingsFor: (clusterId: string) => PreviewSettings;
}): InterfacePreview[] {
  return options.nodes.map((node) => {
    if (node.interfaces === null) {
      return {
        clusterId: node.clusterId,
        nodeName: node.nodeName,
        reportedAt: node.reportedAt,
        known: false,
        interfaces: [],
      };
    }
    const settings = options.settingsFor(node.clusterId);
    const selection = matchInterfaces({
      names: node.interfaces,
      include: settings.includeList ?? [],
      exclude: settings.excludeList ?? [],
      ...(settings.networkDevice === undefined ? {} : { device: settings.networkDevice }),
    });
    const selected = new Set(selection.selected);
    const reasons = new Map(selection.skipped.map((skip) => [skip.name, skip.reason]));
    return {
      clusterId: node.clusterId,
      nodeName: node.nodeName,
      reportedAt: node.reportedAt,
      known: true,
      interfaces: node.interfaces.map((name) => ({
        name,
        captured: selected.has(name),
        reason: reasons.get(name) ?? null,
      })),
    };
  });
}
