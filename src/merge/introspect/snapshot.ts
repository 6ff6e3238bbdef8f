import type pg from "pg";
import { BoughError } from "../../core/errors.ts";
import { quoteLiteral } from "../../core/names.ts";

/** Opens one more connection to the database being read; the pool closes it with end(). */
export type Connect = () => Promise<pg.Client>;

export interface SnapshotOptions {
  /** More connections to spread the catalog queries over; without it every query runs on the caller's. */
  connect?: Connect;
  /** Connections in all, the caller's included (default 3). */
  connections?: number;
}

/**
 * Connections that all read one snapshot. `run` lends a free one to each task (one task
 * per connection at a time), so independent catalog queries run side by side and each
 * sees exactly what a single connection would.
 */
export interface SnapshotPool {
  /** server_version_num of the database read. */
  serverVersion: number;
  run<T>(task: (client: pg.ClientBase) => Promise<T>): Promise<T>;
}

const DEFAULT_CONNECTIONS = 3;

/**
 * Runs `work` in one REPEATABLE READ snapshot with search_path empty. Inside a caller's
 * transaction it is a savepoint of it on that connection alone (a plan checked before it
 * commits must be read with its own uncommitted changes); otherwise, given `connect`,
 * the snapshot is exported and imported by more connections (SET TRANSACTION SNAPSHOT).
 */
export async function inSnapshot<T>(
  client: pg.ClientBase,
  work: (pool: SnapshotPool) => Promise<T>,
  o: SnapshotOptions = {},
): Promise<T> {
  const status = client.getTransactionStatus?.();
  if (status === "E") {
    throw new BoughError(
      "INVALID_INPUT",
      "cannot introspect: the connection's transaction has failed",
      "roll the transaction back first",
    );
  }
  const nested = status === "T";
  await client.query(
    nested ? "SAVEPOINT bough_introspect" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
  );
  const extra: pg.Client[] = [];
  try {
    await client.query("SET LOCAL search_path = ''");
    const wanted = (o.connections ?? DEFAULT_CONNECTIONS) - 1;
    if (!nested && o.connect && wanted > 0)
      extra.push(...(await joinSnapshot(client, o.connect, wanted)));
    const version = await client.query<{ v: string }>(
      "SELECT current_setting('server_version_num') AS v",
    );
    const result = await work(poolOf([client, ...extra], Number(version.rows[0].v)));
    await client.query(nested ? "ROLLBACK TO SAVEPOINT bough_introspect" : "COMMIT");
    if (nested) await client.query("RELEASE SAVEPOINT bough_introspect");
    return result;
  } catch (err) {
    await client
      .query(nested ? "ROLLBACK TO SAVEPOINT bough_introspect" : "ROLLBACK")
      .catch(() => {});
    if (nested) await client.query("RELEASE SAVEPOINT bough_introspect").catch(() => {});
    throw err;
  } finally {
    // Read-only transactions: ending the connection ends them.
    await Promise.all(extra.map((c) => c.end().catch(() => {})));
  }
}

/**
 * Up to `n` more connections in the caller's snapshot. One that cannot be opened (the
 * server's connection limit) is done without: the queries then share fewer connections.
 */
async function joinSnapshot(client: pg.ClientBase, connect: Connect, n: number) {
  const { rows } = await client.query<{ id: string }>("SELECT pg_export_snapshot() AS id");
  const opened = await Promise.all(
    Array.from({ length: n }, async () => {
      const c = await connect().catch(() => null);
      if (!c) return null;
      try {
        await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        await c.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(rows[0].id)}`);
        await c.query("SET LOCAL search_path = ''");
        return c;
      } catch {
        await c.end().catch(() => {});
        return null;
      }
    }),
  );
  return opened.filter((c): c is pg.Client => c !== null);
}

function poolOf(clients: pg.ClientBase[], serverVersion: number): SnapshotPool {
  const free = [...clients];
  const waiting: ((c: pg.ClientBase) => void)[] = [];
  const release = (c: pg.ClientBase) => {
    const next = waiting.shift();
    if (next) next(c);
    else free.push(c);
  };
  return {
    serverVersion,
    async run(task) {
      const c =
        free.pop() ?? (await new Promise<pg.ClientBase>((resolve) => waiting.push(resolve)));
      try {
        return await task(c);
      } finally {
        release(c);
      }
    },
  };
}
