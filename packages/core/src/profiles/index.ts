export * from "./bpf-libpcap.ts";
export * from "./interface-preview.ts";
export * from "./profiles.ts";
export * from "./settings-diff.ts";
