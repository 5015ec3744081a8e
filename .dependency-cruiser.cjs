// Import layering of docs/architecture: imports flow one way and never in a cycle.
// Each entry lists the workspaces a package may import; anything else fails `npm run lint`.
const allowed = {
  sensor: [],
  db: [],
  "kube-sim": [],
  agent: ["sensor"],
  kube: ["sensor"],
  core: ["db", "kube", "sensor"],
  api: ["core", "sensor"],
  cli: ["sensor", "api"],
};
const all = ["sensor", "db", "kube-sim", "agent", "kube", "core", "api", "cli"];

const packageRules = Object.entries(allowed).map(([from, may]) => {
  // kube-sim has its own rule below: tests and benchmarks may use it, production code may not.
  const forbidden = all.filter((p) => p !== from && p !== "kube-sim" && !may.includes(p));
  return {
    name: `layer-${from}`,
    comment: `packages/${from} may import only: ${may.join(", ") || "nothing of ours"}`,
    severity: "error",
    from: { path: `^packages/${from}/` },
    to: { path: `^packages/(${forbidden.map((p) => p.replace("-", "\\-")).join("|")})/` },
  };
});

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import cycles, inside a package or between packages.",
      from: {},
      to: { circular: true },
    },
    {
      name: "nothing-imports-an-app",
      severity: "error",
      from: { pathNot: "^apps/" },
      to: { path: "^apps/" },
    },
    {
      name: "apps-do-not-import-each-other",
      severity: "error",
      from: { path: "^apps/([^/]+)/" },
      to: { path: "^apps/", pathNot: "^apps/$1/" },
    },
    {
      name: "web-imports-only-api-and-sensor",
      severity: "error",
      comment: "The dashboard talks to the server through tRPC only.",
      from: { path: "^apps/web/" },
      to: { path: "^packages/(db|core|kube|kube-sim|agent|cli)/" },
    },
    {
      name: "kube-sim-stays-out-of-production",
      severity: "error",
      comment:
        "Only tests, benchmarks and the server's demo launcher (apps/server/src/demo) may run a simulated cluster.",
      from: {
        path: "^(packages/(core|api|kube|db|sensor|agent|cli)|apps/(web|server))/",
        pathNot: "^(packages/[^/]+|apps/server)/(test|bench)/|\\.test\\.ts$|^apps/server/src/demo/",
      },
      to: { path: "^packages/kube-sim/" },
    },
    ...packageRules,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(node_modules|\\.next|generated|dist)" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
    },
  },
};
