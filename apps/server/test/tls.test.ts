// The server serving HTTPS itself: start-up checks of the certificate files,
// a real TLS handshake against the configured CA, and a renewal picked up
// without a restart.
import { X509Certificate } from "node:crypto";
import { copyFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { connect, type PeerCertificate } from "node:tls";
import {
  COLLECTOR_SERVER_NAME,
  createTestCertificate,
  type TestCertificate,
} from "../../../packages/agent/test/support/collector.ts";
import { createTestDatabase, type TestDatabase } from "@tapfleet/db/testing";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../scripts/test-wait-for.ts";
import { loadServerEnv } from "../src/env.ts";
import { createLogger, startServer, type RunningServer } from "../src/start.ts";
import { loadTlsMaterial } from "../src/tls.ts";

let first: TestCertificate;
let second: TestCertificate;
const files = (certificate: TestCertificate) => ({
  certFile: path.join(certificate.directory, "cert.pem"),
  keyFile: path.join(certificate.directory, "key.pem"),
});

beforeAll(() => {
  first = createTestCertificate();
  second = createTestCertificate();
});

describe("TLS settings", () => {
  it("refuses half a TLS setting, naming the missing variable", () => {
    expect(() => loadServerEnv({ TAPFLEET_TLS_CERT_FILE: "/etc/tapfleet/cert.pem" })).toThrow(
      /TAPFLEET_TLS_KEY_FILE: must be set too/,
    );
    expect(() => loadServerEnv({ TAPFLEET_TLS_KEY_FILE: "/etc/tapfleet/key.pem" })).toThrow(
      /TAPFLEET_TLS_CERT_FILE: must be set too/,
    );
  });

  it.each([
    {
      name: "a missing certificate file",
      pick: () => ({ certFile: "/nonexistent/cert.pem", keyFile: files(first).keyFile }),
      error: "TAPFLEET_TLS_CERT_FILE: cannot read /nonexistent/cert.pem (ENOENT)",
    },
    {
      name: "a certificate file that is not PEM",
      pick: () => {
        const bad = path.join(first.directory, "not-a-cert.pem");
        writeFileSync(bad, "hello\n");
        return { certFile: bad, keyFile: files(first).keyFile };
      },
      error: "does not hold a PEM certificate",
    },
    {
      name: "a key file that is a certificate",
      pick: () => ({ certFile: files(first).certFile, keyFile: files(first).certFile }),
      error: "TAPFLEET_TLS_KEY_FILE:",
    },
    {
      name: "a key that belongs to another certificate",
      pick: () => ({ certFile: files(first).certFile, keyFile: files(second).keyFile }),
      error: "does not belong to the certificate",
    },
  ])("names the variable for $name", ({ pick, error }) => {
    expect(() => loadTlsMaterial(pick())).toThrow(error);
  });

  it("stops the start with that line before starting a database", async () => {
    const env = loadServerEnv({
      PORT: "0",
      DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none",
      TAPFLEET_SERVE_DASHBOARD: "false",
      TAPFLEET_TLS_CERT_FILE: files(first).certFile,
      TAPFLEET_TLS_KEY_FILE: files(second).keyFile,
      LOG_LEVEL: "silent",
    });
    // Were the database reached first, the error would name 127.0.0.1:1 instead.
    await expect(startServer({ env, logger: createLogger("silent") })).rejects.toThrow(
      /TAPFLEET_TLS_KEY_FILE: the key in .* does not belong/,
    );
  });
});

describe("serving HTTPS", () => {
  let database: TestDatabase;
  let server: RunningServer;
  let serving: { certFile: string; keyFile: string };
  const logs: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    // The server reads copies, so the test can renew them in place.
    const live = createTestCertificate();
    serving = files(live);
    copyFileSync(files(first).certFile, serving.certFile);
    copyFileSync(files(first).keyFile, serving.keyFile);
    const env = loadServerEnv({
      PORT: "0",
      DATABASE_URL: database.url,
      TAPFLEET_SERVE_DASHBOARD: "false",
      TAPFLEET_ADMIN_PASSWORD: "admin-password-for-tests",
      TAPFLEET_TLS_CERT_FILE: serving.certFile,
      TAPFLEET_TLS_KEY_FILE: serving.keyFile,
      LOG_LEVEL: "silent",
    });
    const logger = pino({ level: "info" }, { write: (line: string) => void logs.push(line) });
    server = await startServer({
      env,
      logger,
      announce: () => undefined,
      tlsReloadIntervalMs: 100,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await database?.stop();
  });

  const port = () => Number(new URL(server.url).port);
  /** Completes a handshake trusting `ca`; resolves with the served certificate or the TLS error. */
  const handshake = (ca: string) =>
    new Promise<{ certificate?: PeerCertificate; error?: Error }>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port: port(), ca, servername: COLLECTOR_SERVER_NAME });
      socket.once("secureConnect", () => {
        resolve({ certificate: socket.getPeerCertificate() });
        socket.end();
      });
      socket.once("error", (error) => resolve({ error }));
    });

  it("answers over HTTPS with the configured certificate, and not over plain HTTP", async () => {
    expect(server.url).toMatch(/^https:\/\//);
    const { certificate, error } = await handshake(first.cert);
    expect(error).toBeUndefined();
    expect(certificate?.subject.CN).toBe(COLLECTOR_SERVER_NAME);
    // A client that does not trust the CA is refused by its own verification.
    expect((await handshake(second.cert)).error?.message).toMatch(/self[- ]signed|unable to verify/i);
    // The same port does not speak plain HTTP.
    const plain = await fetch(`http://127.0.0.1:${port()}/healthz`).then(
      (response) => `status ${response.status}`,
      (failure: unknown) => `failed: ${String(failure)}`,
    );
    expect(plain).not.toBe("status 200");
  });

  it("keeps serving the old certificate through a bad renewal, then picks up a good one", async () => {
    const fingerprint = async (ca: string) => (await handshake(ca)).certificate?.fingerprint256;
    const original = await fingerprint(first.cert);
    expect(original).toBeDefined();
    // Half-written renewal: the new certificate beside the old key is refused and logged...
    copyFileSync(files(second).certFile, serving.certFile);
    await waitFor(() => logs.find((line) => line.includes("cannot be used")), {
      timeoutMs: 10_000,
      what: "the refused renewal to be logged",
    });
    // ...and the old pair is still served.
    expect(await fingerprint(first.cert)).toBe(original);
    // Complete it: now both match, and new connections get the new certificate.
    copyFileSync(files(second).keyFile, serving.keyFile);
    const renewed = await waitFor(() => fingerprint(second.cert), {
      until: (current) => current !== undefined && current !== original,
      timeoutMs: 10_000,
      what: "the renewed certificate to be served",
    });
    expect(renewed).toBe(new X509Certificate(second.cert).fingerprint256);
    expect(logs.some((line) => line.includes("TLS certificate reloaded"))).toBe(true);
  });
});
