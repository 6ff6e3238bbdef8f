import { quoteIdent } from "../core/names.ts";
import { branchUrl, isRunning } from "./branch-cluster.ts";
import type { Ctx } from "./context.ts";
import { readOnly } from "./exclusive.ts";
import { requireBranch, requireProject } from "./lookup.ts";
import { withClient } from "./sql.ts";

/** One platform table of a branch, as a read-only list. */
export interface ServiceTable {
  /** "functions", "schedules", "outbox" */
  service: string;
  table: string;
  columns: string[];
  /** Values as text, long ones cut; columns that hold secrets are never read. */
  rows: (string | null)[][];
  /** More rows exist than were read. */
  truncated: boolean;
}

export interface ServicesOverview {
  branch: string;
  /** The branch's control-plane id: what armed_branch must equal for it to act. */
  branchId: number;
  running: boolean;
  /** Only the tables this branch's database has (services arrive as they are installed). */
  tables: ServiceTable[];
}

const SERVICES = [
  { service: "functions", schema: "functions", table: "functions", order: "1" },
  { service: "schedules", schema: "schedules", table: "jobs", order: "1" },
  { service: "outbox", schema: "email", table: "outbox", order: "1 DESC" },
];
const ROW_LIMIT = 50;
const VALUE_LIMIT = 160;
// Secrets and bulky payloads (code, bodies, headers carrying tokens) stay in the database.
const HIDDEN = /secret|encrypted|password|token|hash|key$|body|source|code|headers|payload|bundle/u;

/**
 * What a branch's functions, schedules and outbox hold, read-only, for the dashboard.
 * A table that does not exist (a service not installed on this branch) is left out; a
 * stopped branch is not started to be looked at (running: false, no tables).
 */
export function servicesOverview(
  ctx: Ctx,
  o: { project: string; name: string },
): Promise<ServicesOverview> {
  return readOnly(ctx, async () => {
    const project = requireProject(ctx, o.project);
    const branch = requireBranch(ctx, project, o.name);
    const running = isRunning(ctx, project, branch);
    const base = { branch: branch.name, branchId: branch.id, running };
    if (!running) return { ...base, tables: [] };
    const tables = await withClient(branchUrl(project, branch), async (c) => {
      const out: ServiceTable[] = [];
      for (const s of SERVICES) {
        const name = `${s.schema}.${s.table}`;
        const cols = await c.query<{ name: string }>(
          `SELECT attname AS name FROM pg_attribute
            WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
          [`${quoteIdent(s.schema)}.${quoteIdent(s.table)}`],
        );
        if (cols.rows.length === 0) continue;
        const columns = cols.rows.map((r) => r.name).filter((n) => !HIDDEN.test(n));
        if (columns.length === 0) continue;
        const r = await c.query({
          text: `SELECT ${columns.map((n) => `${quoteIdent(n)}::text`).join(", ")}
                   FROM ${quoteIdent(s.schema)}.${quoteIdent(s.table)} ORDER BY ${s.order} LIMIT $1`,
          values: [ROW_LIMIT + 1],
          rowMode: "array",
        });
        const rows = (r.rows as (string | null)[][])
          .slice(0, ROW_LIMIT)
          .map((row) =>
            row.map((v) =>
              v !== null && v.length > VALUE_LIMIT ? `${v.slice(0, VALUE_LIMIT)}…` : v,
            ),
          );
        out.push({
          service: s.service,
          table: name,
          columns,
          rows,
          truncated: r.rows.length > ROW_LIMIT,
        });
      }
      return out;
    });
    return { ...base, tables };
  });
}
