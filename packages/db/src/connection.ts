import pg from "pg";

/** Thrown when the database server cannot be reached; the message names the host. */
export class DatabaseUnreachableError extends Error {
  constructor(
    readonly host: string,
    cause: unknown,
  ) {
    const reason =
      cause instanceof Error ? cause.message || (cause as NodeJS.ErrnoException).code : String(cause);
    super(`cannot reach the PostgreSQL server at ${host}: ${reason}`, { cause });
    this.name = "DatabaseUnreachableError";
  }
}

/** `host:port` of a connection string, for messages (never the password). */
export function describeDatabaseHost(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || "localhost"}:${parsed.port || "5432"}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

/** Connects once and runs `SELECT 1`; throws DatabaseUnreachableError naming the host. */
export async function checkDatabaseConnection(options: { url: string; timeoutMs?: number }): Promise<void> {
  const client = new pg.Client({
    connectionString: options.url,
    connectionTimeoutMillis: options.timeoutMs ?? 5000,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (cause) {
    throw new DatabaseUnreachableError(describeDatabaseHost(options.url), cause);
  } finally {
    await client.end().catch(() => undefined);
  }
}
