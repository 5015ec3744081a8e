// The sensor contract. Browser code should import the node-free subpaths
// (`@tapfleet/sensor/settings`, `/interface-patterns`, `/bpf`) instead:
// this entry point also pulls in node:crypto through the protocol and hash.
export * from "./settings.ts";
export * from "./interface-patterns.ts";
export * from "./bpf.ts";
export * from "./config-hash.ts";
export * from "./network.ts";
export * from "./manifests.ts";
export * from "./import.ts";
export * from "./protocol.ts";
export * from "./pcap.ts";
