import type pg from "pg";
import { BoughError } from "../core/errors.ts";
import { audited } from "./audited.ts";
import { branchUrl, startBranch } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { exclusive } from "./exclusive.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { withClient } from "./sql.ts";

export interface SqlResult {
  branch: string;
  readOnly: boolean;
  command: string;
  rowCount: number | null;
  rows: Record<string, unknown>[];
}

/** Rows returned at most: an agent's context window is small, a table is not. */
const MAX_ROWS = 500;

/**
 * Runs SQL on a branch in one transaction: READ ONLY unless `allowWrite`; writes on a
 * protected branch are refused, except on the root (main) with `allowRootWrites` (the MCP
 * server's --allow-main-writes).
 */
async function runSqlNow(
  ctx: Ctx,
  o: {
    project: string;
    branch: string;
    sql: string;
    allowWrite?: boolean;
    allowRootWrites?: boolean;
  },
): Promise<SqlResult> {
  const project = requireProject(ctx, o.project);
  const branch = requireBranch(ctx, project, o.branch);
  // Protected branches (main by default) take writes only by merge; --allow-main-writes exempts the root.
  if (o.allowWrite && branch.protected && !(o.allowRootWrites && branch.parentId === null)) {
    throw new BoughError(
      "BRANCH_PROTECTED",
      `writes on the protected branch "${branch.name}" are refused`,
      branch.parentId === null
        ? "create a branch, write there, then merge it (or start the server with --allow-main-writes)"
        : `write on a branch of it and merge, or \`bough branch unprotect ${branch.name}\``,
    );
  }
  const live = await exclusive(ctx, () => startBranch(ctx, project, branch));
  return withClient(branchUrl(project, live), async (c) => {
    await c.query(o.allowWrite ? "BEGIN" : "BEGIN READ ONLY");
    try {
      // Read-only SQL goes over the extended protocol, which takes one statement: a
      // "COMMIT; INSERT ..." cannot end the READ ONLY transaction and write after it.
      const r = await c.query(
        o.allowWrite ? o.sql : ({ text: o.sql, queryMode: "extended" } as pg.QueryConfig),
      );
      await c.query("COMMIT");
      // A multi-statement text returns one result per statement: report the last.
      const last = Array.isArray(r) ? r[r.length - 1] : r;
      return {
        branch: branch.name,
        readOnly: !o.allowWrite,
        command: last?.command ?? "",
        rowCount: last?.rowCount ?? null,
        rows: (last?.rows ?? []).slice(0, MAX_ROWS),
      };
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      const e = err as Error & { code?: string };
      throw new BoughError(
        "INVALID_INPUT",
        `SQL failed on ${branch.name}: ${e.message}`,
        e.code === "25006"
          ? "this is a write: pass allowWrite to run it (on a branch, not main)"
          : "fix the statement; the transaction was rolled back",
      );
    }
  });
}

export const runSql = audited("branch.sql", runSqlNow);

export interface TableColumns {
  schema: string;
  table: string;
  columns: { name: string; type: string; nullable: boolean; default: string | null }[];
}

/** The user tables of a branch and their columns (system and platform schemas left out). */
export async function describeSchema(
  ctx: Ctx,
  o: { project: string; branch: string },
): Promise<TableColumns[]> {
  const project = requireProject(ctx, o.project);
  const branch = requireBranch(ctx, project, o.branch);
  const live = await exclusive(ctx, () => startBranch(ctx, project, branch));
  const { rows } = await withClient(branchUrl(project, live), (c) =>
    c.query<{ s: string; t: string; n: string; ty: string; nul: string; d: string | null }>(
      `SELECT table_schema s, table_name t, column_name n, data_type ty, is_nullable nul, column_default d
         FROM information_schema.columns
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'auth', 'storage', 'email', 'bough', 'functions', 'schedules', 'secrets', 'realtime')
          AND table_schema NOT LIKE 'pg\\_%'
        ORDER BY 1, 2, ordinal_position`,
    ),
  );
  const tables = new Map<string, TableColumns>();
  for (const r of rows) {
    const key = `${r.s}.${r.t}`;
    const t = tables.get(key) ?? { schema: r.s, table: r.t, columns: [] };
    tables.set(key, t);
    t.columns.push({ name: r.n, type: r.ty, nullable: r.nul === "YES", default: r.d });
  }
  return [...tables.values()];
}
