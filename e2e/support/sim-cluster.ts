import { expect, type APIRequestContext } from "@playwright/test";
import { daemonSetFixture } from "../../packages/kube-sim/src/testing/fixtures.ts";
import { startSimCluster, type RunningSimCluster } from "../../packages/kube-sim/src/index.ts";
import { ADMIN, apiSignIn } from "./fixtures.ts";

/**
 * A simulated cluster (fake kubelet) with Tapfleet's sensor DaemonSet in `tapfleet`, registered
 * as `id` and connected over the REST API, as a user would. 409 on registering is accepted: a
 * retry of the file in a new worker finds the cluster registered. Returns the admin's cookie too.
 */
export async function connectSimCluster(
  request: APIRequestContext,
  options: {
    id: string;
    name: string;
    nodes: number;
    /** More environment for the sensor container (a long report interval keeps nodes "starting"). */
    env?: { name: string; value: string }[];
  },
): Promise<{ sim: RunningSimCluster; cookie: string }> {
  const sim = await startSimCluster({ nodes: options.nodes, kubelet: "fake", name: options.name });
  sim.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "tapfleet" } });
  const daemonSet = daemonSetFixture({
    name: "tapfleet-sensor",
    namespace: "tapfleet",
    ...(options.env ? { env: options.env } : {}),
  });
  daemonSet.metadata.labels = { "app.kubernetes.io/part-of": "tapfleet" };
  sim.store.create("daemonsets.apps", daemonSet);
  const cookie = await apiSignIn(request, ADMIN);
  const headers = { cookie, "content-type": "application/json" };
  const created = await request.post("/api/v1/clusters", { headers, data: { id: options.id } });
  expect([200, 409], await created.text()).toContain(created.status());
  const connected = await request.put(`/api/v1/clusters/${options.id}/connection`, {
    headers,
    data: { kubeconfig: sim.kubeconfig(), context: options.name },
  });
  expect(connected.status(), await connected.text()).toBe(200);
  return { sim, cookie };
}
