import { auditRouter } from "./routers/audit.ts";
import { authRouter } from "./routers/auth.ts";
import { clustersRouter } from "./routers/clusters.ts";
import { debugLevelRouter } from "./routers/debug-level.ts";
import { demoRouter } from "./routers/demo.ts";
import { inventoryRouter } from "./routers/inventory.ts";
import { liveRouter } from "./routers/live.ts";
import { profilesRouter } from "./routers/profiles.ts";
import { rolloutsRouter } from "./routers/rollouts.ts";
import { kubeDetailRouter } from "./routers/kube-detail.ts";
import { sensorDriftRouter } from "./routers/sensor-drift.ts";
import { sensorInstallRouter } from "./routers/sensor-install.ts";
import { sensorsRouter } from "./routers/sensors.ts";
import { statsRouter } from "./routers/stats.ts";
import { systemRouter } from "./routers/system.ts";
import { tokensRouter } from "./routers/tokens.ts";
import { usersRouter } from "./routers/users.ts";
import { router } from "./trpc.ts";

export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  tokens: tokensRouter,
  audit: auditRouter,
  system: systemRouter,
  clusters: clustersRouter,
  sensors: sensorsRouter,
  inventory: inventoryRouter,
  live: liveRouter,
  kube: kubeDetailRouter,
  stats: statsRouter,
  demo: demoRouter,
  profiles: profilesRouter,
  sensorInstall: sensorInstallRouter,
  sensorDrift: sensorDriftRouter,
  debugLevel: debugLevelRouter,
  rollouts: rolloutsRouter,
});

export type AppRouter = typeof appRouter;
