import net from "node:net";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { createCollectorClient } from "./collector-client.ts";

// A real TCP listener that accepts and never answers: a proxy that hangs.
const servers: net.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.close();
    await once(server, "close");
  }
});

async function silentProxy(): Promise<{ port: number; connections: net.Socket[] }> {
  const connections: net.Socket[] = [];
  const server = net.createServer((socket) => {
    connections.push(socket);
    socket.resume();
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { port: (server.address() as net.AddressInfo).port, connections };
}

function client(httpsProxy: string) {
  return createCollectorClient({
    settings: {
      collectorHost: "192.0.2.10",
      collectorPort: 443,
      hmacKey: "test-hmac-key-0123456789abcdef",
      keyId: "lab",
      httpsProxy,
      noProxy: [],
      tlsCaFile: undefined,
      tlsServerName: undefined,
      tlsInsecure: false,
    },
    timeoutMs: 300,
  });
}

describe("collector client through a proxy", () => {
  it.each(["http", "https"])(
    "gives up a CONNECT an %s:// proxy never answers, and closes its connection to the proxy",
    async (scheme) => {
      const proxy = await silentProxy();
      const collector = client(`${scheme}://user:secret@127.0.0.1:${proxy.port}`);
      expect(collector.proxy).toBe(`${scheme}://127.0.0.1:${proxy.port}`);
      expect(collector.peer).toEqual({ host: "127.0.0.1", port: proxy.port });
      await expect(collector.post("/ingest/v1/stats", "{}", "application/json")).rejects.toThrow(
        new RegExp(`proxy 127\\.0\\.0\\.1:${proxy.port}: CONNECT 192\\.0\\.2\\.10:443 timed out|aborted`),
      );
      expect(proxy.connections).toHaveLength(1);
      const [connection] = proxy.connections;
      if (!connection!.destroyed) await once(connection!, "close");
      await collector.close();
    },
  );
});
