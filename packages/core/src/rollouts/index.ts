export * from "./decide.ts";
export * from "./gate.ts";
export * from "./rollouts.ts";
export * from "./runner.ts";
export * from "./schema.ts";
export * from "./template.ts";
