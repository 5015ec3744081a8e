export * from "./decide.ts";
export * from "./debug-level.ts";
export * from "./runner.ts";
