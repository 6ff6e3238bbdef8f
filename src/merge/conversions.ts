import { parse, scan } from "libpg-query";
import { columnId } from "./catalog/ids.ts";
import type { Change } from "./diff/changes.ts";
import type { Conversions } from "./render/sql/step.ts";

/** One `ALTER TABLE ... ALTER COLUMN c TYPE t [USING expr]` found in SQL text. */
export interface TypeChange {
  /** null when the statement did not name one (the session's search_path decided). */
  schema: string | null;
  table: string;
  column: string;
  /** The USING expression as written, or null for a plain cast. */
  using: string | null;
}

/**
 * Every column type change in a SQL text, in order, with its USING expression cut out of
 * the text by Postgres' own parser and scanner. Text that does not parse gives nothing
 * (a DDL log row cut at its size limit, a psql script).
 *
 * @example await typeChangesIn("ALTER TABLE ev ALTER at TYPE timestamptz USING to_timestamp(at)")
 */
export async function typeChangesIn(sql: string): Promise<TypeChange[]> {
  let stmts: Awaited<ReturnType<typeof parse>>["stmts"];
  try {
    stmts = (await parse(sql)).stmts ?? [];
  } catch {
    return [];
  }
  const bytes = Buffer.from(sql, "utf8");
  const tokens = (await scan(sql)).tokens;
  const out: TypeChange[] = [];
  for (const raw of stmts) {
    const alter = (raw.stmt as Record<string, unknown> | undefined)?.AlterTableStmt as
      | AlterTable
      | undefined;
    if (!alter?.relation?.relname) continue;
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    for (const cmd of alter.cmds ?? []) {
      const c = cmd.AlterTableCmd;
      if (c?.subtype !== "AT_AlterColumnType" || !c.name) continue;
      const expr = c.def?.ColumnDef?.raw_default;
      out.push({
        schema: alter.relation.schemaname ?? null,
        table: alter.relation.relname,
        column: c.name,
        using: expr ? usingText({ bytes, tokens, at: firstLocation(expr), end }) : null,
      });
    }
  }
  return out;
}

interface AlterTable {
  relation?: { schemaname?: string; relname?: string };
  cmds?: {
    AlterTableCmd?: {
      subtype?: string;
      name?: string;
      def?: { ColumnDef?: { raw_default?: unknown } };
    };
  }[];
}

/** The smallest `location` inside a parse tree node: a byte inside its expression. */
function firstLocation(node: unknown): number {
  let least = Number.POSITIVE_INFINITY;
  const walk = (n: unknown) => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === "object") {
      for (const [k, v] of Object.entries(n)) {
        if (k === "location" && typeof v === "number" && v >= 0) least = Math.min(least, v);
        else walk(v);
      }
    }
  };
  walk(node);
  return least;
}

/** From the USING keyword before `at` to the next comma or semicolon outside parentheses. */
function usingText(o: {
  bytes: Buffer;
  tokens: { start: number; end: number; text: string }[];
  at: number;
  end: number;
}): string | null {
  let keyword = -1;
  o.tokens.forEach((t, i) => {
    if (t.start < o.at && t.text.toUpperCase() === "USING") keyword = i;
  });
  if (keyword < 0) return null;
  let depth = 0;
  let last = keyword;
  for (let i = keyword + 1; i < o.tokens.length && o.tokens[i].start < o.end; i++) {
    const t = o.tokens[i].text;
    if (t === "(" || t === "[") depth++;
    else if (t === ")" || t === "]") depth--;
    else if (depth === 0 && (t === "," || t === ";")) break;
    last = i;
  }
  if (last === keyword) return null;
  return o.bytes.subarray(o.tokens[keyword + 1].start, o.tokens[last].end).toString("utf8");
}

/** One source of the branch's own DDL: a migration's text, or a DDL log row with the schema of the table it touched. */
export interface DdlSource {
  sql: string;
  /** Where it came from, for the preview ("migration 002_x.sql", "DDL log #12"). */
  label: string;
  /** The schema an unqualified table name meant. */
  schema: string;
}

/**
 * The USING expressions to carry for the diff's column type changes: for each retyped
 * column, its last type change in the branch's DDL (sources oldest first), when that one
 * had a USING. A later plain type change of the same column wins (no USING carried).
 */
export async function carriedConversions(
  changes: Change[],
  sources: DdlSource[],
): Promise<Conversions> {
  const retyped = new Set(
    changes.flatMap((c) =>
      c.type === "alter" &&
      c.before.kind === "column" &&
      c.after.kind === "column" &&
      c.before.type !== c.after.type
        ? [c.id]
        : [],
    ),
  );
  const out: Record<string, { using: string; source: string }> = {};
  if (retyped.size === 0) return out;
  for (const s of sources) {
    if (!/\bTYPE\b/iu.test(s.sql)) continue;
    for (const t of await typeChangesIn(s.sql)) {
      const id = columnId(t.schema ?? s.schema, t.table, t.column);
      if (!retyped.has(id)) continue;
      if (t.using === null || !(await isOneExpression(t.using))) delete out[id];
      else out[id] = { using: t.using, source: s.label };
    }
  }
  return out;
}

/** The text is one expression and nothing else (it is pasted into the merge's own statement). */
async function isOneExpression(text: string): Promise<boolean> {
  try {
    const stmts = (await parse(`SELECT (${text})`)).stmts ?? [];
    const select = (stmts[0]?.stmt as Record<string, Record<string, unknown>> | undefined)
      ?.SelectStmt;
    return (
      stmts.length === 1 &&
      select !== undefined &&
      (select.targetList as unknown[]).length === 1 &&
      select.fromClause === undefined
    );
  } catch {
    return false;
  }
}
