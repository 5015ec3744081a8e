export * from "./diff.ts";
export * from "./drift.ts";
