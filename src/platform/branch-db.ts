import pg from "pg";
import type { BranchDb, RequestIdentity } from "./request.ts";

const ROLES = new Set(["anon", "authenticated", "service_role"]);

/**
 * A BranchDb over a connection pool to one branch's cluster (as its superuser).
 * Requests drop to their role inside the transaction, so nothing they do outlives it.
 *
 * @example const db = poolBranchDb(branchUrl(project, branch)); await db.asService((c) => c.query("SELECT 1"))
 */
export function poolBranchDb(
  url: string,
  o: { max?: number } = {},
): BranchDb & { end(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: o.max ?? 10 });
  // An idle connection's error (the branch stopped) must not crash the server.
  pool.on("error", () => {});
  // A checked-out connection's error (the branch stopped mid-query) reaches its query as a
  // rejection; unheard as an event it would crash the server.
  pool.on("connect", (c) => c.on("error", () => {}));
  const inTransaction = async <T>(
    setup: (c: pg.PoolClient) => Promise<void>,
    fn: (c: pg.ClientBase) => Promise<T>,
  ): Promise<T> => {
    const c = await pool.connect();
    let broken = false;
    try {
      await c.query("BEGIN");
      await setup(c);
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      c.release(broken);
    }
  };
  return {
    asRequest: (identity: RequestIdentity, fn) =>
      inTransaction(async (c) => {
        if (!ROLES.has(identity.role)) throw new Error(`unknown request role ${identity.role}`);
        await c.query(
          "SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)",
          [identity.role, JSON.stringify({ ...identity.claims, role: identity.role })],
        );
      }, fn),
    asService: (fn) => inTransaction(async () => {}, fn),
    end: () => pool.end(),
  };
}
