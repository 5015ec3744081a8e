// The leader lock: of all server replicas on one database, the one holding a
// PostgreSQL advisory lock is the leader and runs the work that must run once.
// The lock lives on a dedicated connection, so it is released by PostgreSQL
// itself when the holder dies; the holder steps down the moment it sees that
// connection fail, because from then on another replica may hold the lock.
import { Socket } from "node:net";
import pg from "pg";

/** The advisory lock key: "tapfleet" in ASCII, as a signed 64-bit integer. */
export const LEADER_LOCK_KEY = 8386107566348133748n;

/** The lock connection's application_name, so operators can find it in pg_stat_activity. */
export const LEADER_LOCK_APPLICATION_NAME = "tapfleet-leader-lock";

export interface LeaderLock {
  isLeader(): boolean;
  /** Calls `listener` on every change of leadership, synchronously; returns the unsubscribe. */
  onChange(listener: (leader: boolean) => void): () => void;
  /** Steps down, releases the lock and closes its connection. */
  close(): Promise<void>;
}

export interface LeaderLockOptions {
  url: string;
  key?: bigint;
  /** How often a follower tries to take the lock. Default 2 s. */
  retryIntervalMs?: number;
  /** How often the leader checks its connection. Default 1 s. */
  checkIntervalMs?: number;
  /**
   * How long a connect or a check may take before the connection counts as lost. Default 10 s:
   * PostgreSQL keeps a silent session's lock until its own keepalive gives up, so stepping down
   * sooner buys no exclusivity, while a step-down on a check that was merely slow (a loaded
   * machine) restarts every leader controller and relists every cluster, which loads it more.
   */
  checkTimeoutMs?: number;
  /** Lost connections and failed attempts; the lock keeps trying. */
  onError?: (error: Error) => void;
}

/**
 * Starts competing for the lock. The first attempt is made before this
 * resolves, so a lone replica is leader as soon as it has started.
 */
export async function startLeaderLock(options: LeaderLockOptions): Promise<LeaderLock> {
  const key = (options.key ?? LEADER_LOCK_KEY).toString();
  const retryIntervalMs = options.retryIntervalMs ?? 2000;
  const checkIntervalMs = options.checkIntervalMs ?? 1000;
  const checkTimeoutMs = options.checkTimeoutMs ?? 10_000;
  const listeners = new Set<(leader: boolean) => void>();
  let client: pg.Client | undefined;
  /** The socket of a connection being opened, so that closing ends it rather than waits for it. */
  let connecting: Socket | undefined;
  /** The attempt under way, which closing waits for so that nothing is reported after it. */
  let running: Promise<void> | undefined;
  let leader = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const report = (error: Error) => {
    if (!closed) options.onError?.(error);
  };

  const setLeader = (value: boolean) => {
    if (leader === value) return;
    leader = value;
    for (const listener of [...listeners]) listener(value);
  };

  /** Drops `lost` if it is still the current connection; stepping down comes first. */
  const lose = (lost: pg.Client, error: Error) => {
    if (client !== lost) return;
    client = undefined;
    const wasLeader = leader;
    setLeader(false);
    report(
      wasLeader ? new Error("lost the leader lock's connection; stepped down", { cause: error }) : error,
    );
    // Ending the connection releases the lock on the server if it still holds it.
    void lost.end().catch(() => undefined);
    schedule(retryIntervalMs);
  };

  const connect = async (): Promise<pg.Client> => {
    const socket = new Socket();
    const next = new pg.Client({
      connectionString: options.url,
      // Our own socket: pg's end() does not stop a connect that waits for the server's answer.
      stream: () => socket,
      application_name: LEADER_LOCK_APPLICATION_NAME,
      connectionTimeoutMillis: checkTimeoutMs,
      query_timeout: checkTimeoutMs,
      keepAlive: true,
    });
    next.on("error", (error) => lose(next, error));
    next.on("end", () => lose(next, new Error("the leader lock's connection closed")));
    connecting = socket;
    try {
      await next.connect();
    } catch (error) {
      void next.end().catch(() => undefined);
      throw error;
    } finally {
      connecting = undefined;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      throw new Error("the leader lock is closed");
    }
    client = next;
    return next;
  };

  const attempt = async (): Promise<void> => {
    const current = client ?? (await connect());
    try {
      if (leader) {
        await current.query("SELECT 1");
      } else {
        const { rows } = await current.query<{ acquired: boolean }>(
          "SELECT pg_try_advisory_lock($1::bigint) AS acquired",
          [key],
        );
        // A connection lost meanwhile took the lock with it.
        if (rows[0]?.acquired && client === current && !closed) setLeader(true);
      }
    } catch (error) {
      lose(current, error instanceof Error ? error : new Error(String(error)));
    }
  };

  function schedule(ms: number): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = tick();
    }, ms);
    timer.unref();
  }

  async function tick(): Promise<void> {
    timer = undefined;
    if (closed) return;
    try {
      await attempt();
    } catch (error) {
      report(
        new Error("cannot connect for the leader lock; retrying", {
          cause: error instanceof Error ? error : new Error(String(error)),
        }),
      );
    }
    // lose() may have scheduled the retry already; a later schedule replaces it.
    if (!timer) schedule(leader ? checkIntervalMs : retryIntervalMs);
  }

  await tick();

  return {
    isLeader: () => leader,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      // An attempt under way ends now: its connection is closed here or below.
      connecting?.destroy();
      const current = client;
      client = undefined;
      setLeader(false);
      listeners.clear();
      // Closing the session releases every advisory lock it holds.
      await current?.end().catch(() => undefined);
      await running;
    },
  };
}
