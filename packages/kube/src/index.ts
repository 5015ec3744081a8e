// @tapfleet/kube: informers for the nodes, sensor DaemonSets and sensor pods of
// connected clusters, plus pod logs and events. See README.md.

export { createBackoff, type Backoff, type BackoffOptions } from "./backoff.ts";
export { delay, ManualClock, systemClock, type CancelTimer, type Clock } from "./clock.ts";
export {
  startClusterWatch,
  type ClusterReachability,
  type ClusterStatus,
  type ClusterWatch,
  type ClusterWatchEvent,
  type ClusterWatchOptions,
  type WatchedResource,
} from "./cluster-watch.ts";
export {
  createInformer,
  defaultKey,
  type Informer,
  type InformerErrorReason,
  type InformerEvent,
  type InformerOptions,
  type ListLimit,
  type ListPage,
} from "./informer.ts";
export * from "./objects.ts";
export * from "./connection/index.ts";
export {
  applyStoreChanges,
  planRelist,
  planWatchEvent,
  type KeyedWatchEvent,
  type StoreChange,
  type Versioned,
} from "./reducer.ts";
export {
  createKubeTransport,
  KubeRequestError,
  parseRetryAfter,
  type FetchLike,
  type KubeTransport,
  type KubeTransportOptions,
} from "./transport.ts";
export {
  listEvents,
  readPodLog,
  type KubeEvent,
  type ListEventsOptions,
  type ReadPodLogOptions,
} from "./logs-events.ts";
export * from "./apply/index.ts";
export * from "./daemonset-patch.ts";
