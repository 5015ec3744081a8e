// The transport against a real simulated cluster (TLS, bearer token): every
// request of one transport goes through one undici Agent, so lists and watches
// share kept-alive TLS connections instead of opening one each, and closing
// the transport ends them.

import type { RunningSimCluster } from "@tapfleet/kube-sim";
import { fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeTransport, type FetchLike } from "../src/index.ts";
import { kubeConfigFor, startSim } from "./helpers.ts";

let sim: RunningSimCluster;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(async () => {
  await sim?.stop();
});

describe("createKubeTransport", () => {
  it("sends every request through one dispatcher, and refuses requests once closed", async () => {
    const dispatchers: unknown[] = [];
    const fetch: FetchLike = (url, init) => {
      dispatchers.push(init.dispatcher);
      return (undiciFetch as unknown as FetchLike)(url, init);
    };
    const transport = createKubeTransport({ kubeConfig: kubeConfigFor(sim), fetch });
    for (let i = 0; i < 3; i++) {
      const nodes = (await transport.getJson("/api/v1/nodes?limit=1")) as { items: unknown[] };
      expect(nodes.items).toHaveLength(1);
    }
    const watch = new AbortController();
    const lines = await transport.getLines("/api/v1/nodes?watch=true&timeoutSeconds=1", {
      signal: watch.signal,
    });
    for await (const line of lines) {
      expect(JSON.parse(line)).toMatchObject({ type: "ADDED" });
      break;
    }
    watch.abort();

    expect(dispatchers).toHaveLength(4);
    expect(dispatchers[0]).toBeDefined();
    expect(new Set(dispatchers).size).toBe(1);

    await transport.close();
    expect((dispatchers[0] as { destroyed: boolean }).destroyed).toBe(true);
    await expect(transport.getJson("/version")).rejects.toThrow(/closed/);
    expect(dispatchers).toHaveLength(4);
  });
});
