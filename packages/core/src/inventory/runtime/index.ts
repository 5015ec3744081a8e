export * from "./kube-mapper.ts";
export * from "./recompute-scheduler.ts";
export * from "./store.ts";
export * from "./node-query.ts";
export * from "./topic.ts";
export * from "./cluster-inventory.ts";
