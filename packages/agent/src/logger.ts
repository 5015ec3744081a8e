// Logging at the osSensor's debug levels (OSSENSOR_DEBUG 0–5). A message is
// printed when its level is at or below the configured one, so level 0 lines
// always appear and level 5 (packet hex dumps) only when asked for.
//
//   0  basic info: start, settings, interfaces chosen, errors
//   1  packet capture stats / Antigena stats, once per report interval
//   2  sending: number and size of what is sent or not sent, and the response
//   3  Antigena info
//   4  a summary of each chunk of packets (time and size)
//   5  every packet's contents as hex

export type LogLevel = 0 | 1 | 2 | 3 | 4 | 5;

export interface Logger {
  /** The configured level; callers check it before building expensive messages (hex dumps). */
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, message: string): void;
  /** Always printed, on stderr. */
  error(message: string): void;
}

export interface CreateLoggerOptions {
  level: LogLevel;
  write?: (line: string) => void;
  writeError?: (line: string) => void;
  now?: () => number;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const writeError = options.writeError ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  const stamp = (): string => new Date(now()).toISOString();
  return {
    level: options.level,
    enabled: (level) => level <= options.level,
    log(level, message) {
      if (level <= options.level) write(`${stamp()} [${level}] ${message}\n`);
    },
    error(message) {
      writeError(`${stamp()} [error] ${message}\n`);
    },
  };
}

/** `offset  hex bytes  |ascii|`, 16 bytes a line, the way tcpdump -X reads. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, Math.min(offset + 16, bytes.length));
    const hex = Array.from(row, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (byte) =>
      byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".",
    ).join("");
    lines.push(`  ${offset.toString(16).padStart(4, "0")}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  return lines.join("\n");
}
