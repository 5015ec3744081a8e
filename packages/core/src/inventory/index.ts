export * from "./types.ts";
export * from "./placement.ts";
export * from "./coverage.ts";
export * from "./inventory.ts";
export * from "./summary.ts";
export * from "./runtime/index.ts";
export * from "./pod-detail.ts";
