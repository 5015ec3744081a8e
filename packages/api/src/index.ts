export { appRouter, type AppRouter } from "./router.ts";
export type { ApiContext, DemoControl, DemoStatusView } from "./context.ts";
export { createCallerFactory, type ProcedureMeta } from "./trpc.ts";
export * from "./schemas.ts";
export * from "./errors.ts";
export * from "./downloads.ts";
export * from "./pod-log-download.ts";
export { LIVE_FEED_PATHS, type LiveFeedPath, type LiveStreamMessage } from "./routers/live.ts";
