import { parse, type RawStmt } from "libpg-query";
import { BoughError } from "../core/errors.ts";

/**
 * bough runs every migration inside a transaction it owns (one per `migrate apply`,
 * one for a whole merge, a rolled-back one on a throwaway clone for diff and dry-run).
 * A migration's own COMMIT would end that transaction and let the rest run in
 * autocommit: on a merge, a half-applied parent. So migration text is parsed with
 * Postgres' own parser (libpg_query) before it runs anywhere:
 * - one outer `BEGIN; … COMMIT;` around the whole file (the common style) is dropped,
 *   since bough's transaction gives exactly that;
 * - any other transaction control (COMMIT, ROLLBACK, SAVEPOINT, PREPARE TRANSACTION, …)
 *   and any statement Postgres refuses inside a transaction block (CREATE INDEX
 *   CONCURRENTLY, VACUUM, CREATE DATABASE, …) is refused with the statement and its line.
 * Transaction control hidden in DO blocks or procedures needs no check: inside a
 * transaction block Postgres itself refuses it ("invalid transaction termination").
 */
export async function executableSql(o: { name: string; sql: string }): Promise<string> {
  const stmts = await parseStatements(o);
  const bytes = Buffer.from(o.sql, "utf8");
  const body = stripOuterWrapper(stmts, o.name, bytes);
  for (const st of body) {
    const refusal = refusalOf(st);
    if (refusal) {
      throw new BoughError(
        "MIGRATION_REFUSED",
        `migration "${o.name}" ${refusal.what} at line ${lineOf(bytes, st.start)}: ${excerpt(bytes, st)}`,
        refusal.hint,
        { migration: o.name, line: lineOf(bytes, st.start) },
      );
    }
  }
  if (body.length === stmts.length) return o.sql;
  if (body.length === 0) return "";
  return bytes.subarray(body[0].start, body[body.length - 1].end).toString("utf8");
}

interface Stmt {
  kind: string;
  node: Record<string, unknown>;
  /** Byte offsets into the UTF-8 text (libpg_query's locations are bytes). */
  start: number;
  end: number;
}

async function parseStatements(o: { name: string; sql: string }): Promise<Stmt[]> {
  const total = Buffer.byteLength(o.sql, "utf8");
  let raw: RawStmt[];
  try {
    raw = (await parse(o.sql)).stmts ?? [];
  } catch (err) {
    const e = err as Error & { sqlDetails?: { cursorPosition?: number } };
    const at = e.sqlDetails?.cursorPosition;
    const where = at === undefined ? "" : ` (line ${lineOf(Buffer.from(o.sql), at)})`;
    throw new BoughError(
      "MIGRATION_FAILED",
      `migration "${o.name}" is not valid SQL: ${e.message}${where}`,
      "fix the SQL (plain SQL only: psql meta-commands such as \\i are not run) and apply it again",
    );
  }
  return raw.map((r) => {
    const stmt = (r.stmt ?? {}) as Record<string, Record<string, unknown>>;
    const kind = Object.keys(stmt)[0] ?? "";
    const start = r.stmt_location ?? 0;
    // stmt_len 0 means "to the end of the text" (the last statement, no semicolon).
    const end = r.stmt_len ? start + r.stmt_len : total;
    return { kind, node: stmt[kind] ?? {}, start, end };
  });
}

const isTxn = (st: Stmt | undefined, kinds: string[]) =>
  st?.kind === "TransactionStmt" && kinds.includes(String(st.node.kind));

/** Drops one `BEGIN; … COMMIT;` that wraps the whole file; refuses a half wrapper. */
function stripOuterWrapper(stmts: Stmt[], name: string, bytes: Buffer): Stmt[] {
  const first = stmts[0];
  const last = stmts[stmts.length - 1];
  if (!isTxn(first, ["TRANS_STMT_BEGIN", "TRANS_STMT_START"])) return stmts;
  const plainBegin = !first.node.options;
  const plainCommit =
    stmts.length > 1 && isTxn(last, ["TRANS_STMT_COMMIT"]) && last.node.chain !== true;
  if (plainBegin && plainCommit) return stmts.slice(1, -1);
  throw new BoughError(
    "MIGRATION_REFUSED",
    `migration "${name}" starts a transaction (line ${lineOf(bytes, first.start)}: ${excerpt(bytes, first)}) that is not a plain BEGIN … COMMIT around the whole file`,
    TXN_HINT,
    { migration: name, line: lineOf(bytes, first.start) },
  );
}

const TXN_HINT =
  "bough runs each migration, and a whole merge, in one transaction of its own: remove the migration's transaction control (one plain BEGIN; … COMMIT; around the whole file is accepted and dropped)";
const NO_TXN_HINT =
  "a migration runs inside one transaction, so statements that cannot are refused rather than half-applied: run it by hand on the parent after the merge, outside bough";

interface Refusal {
  what: string;
  hint: string;
}

/** Why a top-level statement cannot be part of a migration, or null when it can. */
function refusalOf(st: Stmt): Refusal | null {
  const n = st.node;
  const cannot = (what: string, hint = NO_TXN_HINT): Refusal => ({
    what: `uses ${what}, which cannot run inside a transaction block`,
    hint,
  });
  const concurrently = (n.params as { DefElem?: { defname?: string } }[] | undefined)?.some(
    (p) => p.DefElem?.defname === "concurrently",
  );
  switch (st.kind) {
    case "TransactionStmt":
      return { what: "controls the transaction itself", hint: TXN_HINT };
    case "IndexStmt":
      return n.concurrent
        ? cannot(
            "CREATE INDEX CONCURRENTLY",
            "write CREATE INDEX without CONCURRENTLY (it blocks writes to the table while it builds), or build the index by hand on the parent outside bough",
          )
        : null;
    case "DropStmt":
      return n.concurrent
        ? cannot("DROP INDEX CONCURRENTLY", "write DROP INDEX without CONCURRENTLY")
        : null;
    case "ReindexStmt":
      if (concurrently) return cannot("REINDEX CONCURRENTLY");
      return n.kind === "REINDEX_OBJECT_SYSTEM" || n.kind === "REINDEX_OBJECT_DATABASE"
        ? cannot("REINDEX SYSTEM/DATABASE")
        : null;
    case "VacuumStmt":
      return n.is_vacuumcmd ? cannot("VACUUM") : null;
    case "ClusterStmt":
      return n.relation ? null : cannot("CLUSTER without a table");
    case "CreatedbStmt":
      return cannot("CREATE DATABASE");
    case "DropdbStmt":
      return cannot("DROP DATABASE");
    case "AlterSystemStmt":
      return cannot("ALTER SYSTEM");
    case "CreateTableSpaceStmt":
      return cannot("CREATE TABLESPACE");
    case "DropTableSpaceStmt":
      return cannot("DROP TABLESPACE");
    case "CreateSubscriptionStmt":
    case "AlterSubscriptionStmt":
    case "DropSubscriptionStmt":
      return cannot("a subscription command");
    case "DiscardStmt":
      return n.target === "DISCARD_ALL" ? cannot("DISCARD ALL") : null;
    case "AlterTableStmt":
      return detachesConcurrently(n) ? cannot("DETACH PARTITION CONCURRENTLY") : null;
    default:
      return null;
  }
}

function detachesConcurrently(n: Record<string, unknown>): boolean {
  const cmds = (n.cmds ?? []) as { AlterTableCmd?: { def?: { PartitionCmd?: unknown } } }[];
  return cmds.some(
    (c) => (c.AlterTableCmd?.def?.PartitionCmd as { concurrent?: boolean })?.concurrent === true,
  );
}

function lineOf(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 10) line++;
  return line;
}

function excerpt(bytes: Buffer, st: Stmt): string {
  const text = bytes.subarray(st.start, st.end).toString("utf8").replace(/\s+/g, " ").trim();
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
