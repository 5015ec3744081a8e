export * from "./apply.ts";
export * from "./last-applied.ts";
