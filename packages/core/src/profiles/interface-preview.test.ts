import { describe, expect, it } from "vitest";
import { previewInterfaceCapture, type PreviewSettings } from "./interface-preview.ts";

const reportedAt = new Date("2026-12-05T10:00:00Z");
const NODE = ["cni0", "eth0", "eth1", "lo", "veth12ab", "veth34cd"];

function preview(settings: PreviewSettings, interfaces: string[] | null = NODE) {
  const [node] = previewInterfaceCapture({
    nodes: [{ clusterId: "lab", nodeName: "node-1", reportedAt, interfaces }],
    settingsFor: () => settings,
  });
  return node!;
}

describe("previewInterfaceCapture", () => {
  it.each([
    {
      name: "no lists: everything but loopback",
      settings: {},
      captured: ["cni0", "eth0", "eth1", "veth12ab", "veth34cd"],
      skipped: { lo: "loopback" },
    },
    {
      name: "include list (POSIX ERE)",
      settings: { includeList: ["^eth[[:digit:]]$"] },
      captured: ["eth0", "eth1"],
      skipped: { cni0: "not_included", lo: "not_included", veth12ab: "not_included" },
    },
    {
      name: "exclude wins over include",
      settings: { includeList: ["^(eth|veth)"], excludeList: ["^veth"] },
      captured: ["eth0", "eth1"],
      skipped: { veth12ab: "excluded", cni0: "not_included" },
    },
    {
      name: "a pinned device ignores the lists",
      settings: { networkDevice: "eth1", excludeList: ["eth"] },
      captured: ["eth1"],
      skipped: { eth0: "not_the_device", lo: "not_the_device" },
    },
    {
      name: "an empty device means none is pinned",
      settings: { networkDevice: "", excludeList: ["^(veth|cni)"] },
      captured: ["eth0", "eth1"],
      skipped: { cni0: "excluded", veth34cd: "excluded", lo: "loopback" },
    },
  ])("$name", ({ settings, captured, skipped }) => {
    const node = preview(settings);
    expect(node.known).toBe(true);
    expect(node.interfaces.filter((item) => item.captured).map((item) => item.name)).toEqual(captured);
    for (const [name, reason] of Object.entries(skipped)) {
      expect(node.interfaces.find((item) => item.name === name)).toEqual({ name, captured: false, reason });
    }
  });

  it("says so when an agent did not report its interfaces", () => {
    expect(preview({}, null)).toMatchObject({ known: false, interfaces: [] });
  });

  it("applies each cluster's own settings", () => {
    const nodes = previewInterfaceCapture({
      nodes: [
        { clusterId: "eu", nodeName: "a", reportedAt, interfaces: ["eth0", "ens5"] },
        { clusterId: "us", nodeName: "b", reportedAt, interfaces: ["eth0", "ens5"] },
      ],
      settingsFor: (clusterId) => ({ includeList: [clusterId === "eu" ? "^ens" : "^eth"] }),
    });
    expect(nodes.map((node) => node.interfaces.filter((i) => i.captured).map((i) => i.name))).toEqual([
      ["ens5"],
      ["eth0"],
    ]);
  });
});
