export * from "./rates.ts";
export * from "./buckets.ts";
export * from "./rollups.ts";
export * from "./live.ts";
