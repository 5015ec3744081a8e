// tinyproxy, a real HTTP CONNECT proxy, on a namespace's loopback (in a fresh
// namespace every port is free there).

import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { scratchDir } from "./run.ts";

export interface Tinyproxy {
  process: ChildProcess;
  /** What tinyproxy logged so far (CONNECT lines at LogLevel Connect). */
  log(): string;
  stop(): Promise<void>;
}

export function startTinyproxy(options: {
  netns: string;
  port: number;
  allowPort: number;
  /** Requires Basic `Proxy-Authorization` with these credentials. */
  basicAuth?: { user: string; password: string };
}): Tinyproxy {
  const directory = scratchDir("tinyproxy");
  // tinyproxy drops to nobody; its log lives here.
  chmodSync(directory, 0o777);
  const logFile = path.join(directory, "tinyproxy.log");
  const config = path.join(directory, "tinyproxy.conf");
  writeFileSync(
    config,
    [
      `Port ${options.port}`,
      "Listen 127.0.0.1",
      "Timeout 30",
      "Allow 127.0.0.1",
      `ConnectPort ${options.allowPort}`,
      `LogFile "${logFile}"`,
      "LogLevel Connect",
      "MaxClients 16",
      "User nobody",
      "Group nogroup",
      ...(options.basicAuth === undefined
        ? []
        : [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`]),
      "",
    ].join("\n"),
  );
  const child = spawn("ip", ["netns", "exec", options.netns, "tinyproxy", "-d", "-c", config], {
    stdio: "ignore",
  });
  return {
    process: child,
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) =>
        child.exitCode === null && child.signalCode === null
          ? child.once("exit", resolve)
          : resolve(undefined),
      );
    },
  };
}
