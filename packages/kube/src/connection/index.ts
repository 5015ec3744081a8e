// Connections from a kubeconfig: reading and cutting it down, then testing it.

export * from "./kubeconfig.ts";
export * from "./connection-test.ts";
